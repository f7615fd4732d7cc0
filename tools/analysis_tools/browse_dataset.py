#!/usr/bin/env python
"""mmseg's ``browse_dataset.py`` with the one fix it needs on numpy 2.

Runs mmsegmentation's own ``tools/analysis_tools/browse_dataset.py`` (from
its installed ``.mim`` folder) unchanged, except that the image handed to
``SegLocalVisualizer._draw_sem_seg`` is made C-contiguous: mmseg 1.2.2 passes
``img[..., [2, 1, 0]]``, which numpy 2 returns as a non-contiguous view, and
OpenCV's ``cv2.rectangle`` (the class-label boxes) rejects it with
``error: (-5:Bad argument) in function 'rectangle'`` for every dataset.

Same arguments as mmseg's script::

    python tools/analysis_tools/browse_dataset.py CONFIG --output-dir vis --not-show
"""
import importlib.util
import os.path as osp

import mmseg
import numpy as np
from mmseg.visualization import SegLocalVisualizer

MMSEG_BROWSE = osp.join(
    osp.dirname(mmseg.__file__), '.mim', 'tools', 'analysis_tools',
    'browse_dataset.py')


def _contiguous_draw(draw):

    def wrapper(self, image, *args, **kwargs):
        return draw(self, np.ascontiguousarray(image), *args, **kwargs)

    return wrapper


def main() -> None:
    if not osp.isfile(MMSEG_BROWSE):
        raise FileNotFoundError(
            f'mmseg ships no browse_dataset.py at {MMSEG_BROWSE}; '
            'install mmsegmentation 1.x from PyPI (it includes .mim/tools)')
    SegLocalVisualizer._draw_sem_seg = _contiguous_draw(
        SegLocalVisualizer._draw_sem_seg)
    spec = importlib.util.spec_from_file_location('mmseg_browse_dataset',
                                                  MMSEG_BROWSE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main()


if __name__ == '__main__':
    main()

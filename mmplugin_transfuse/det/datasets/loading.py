"""Detection image loading: the shared checked loader.

:class:`CheckedLoadImageFromFile` and :func:`check_image_bytes` live in
:mod:`mmplugin_transfuse.utils.image_checks` (one class, registered into
both mmdet's and mmseg's ``TRANSFORMS``); this module keeps the detection
import path ``mmplugin_transfuse.det.datasets.loading`` working.
"""
from mmplugin_transfuse.utils.image_checks import (CheckedLoadImageFromFile,
                                                   check_image_bytes)

__all__ = ['CheckedLoadImageFromFile', 'check_image_bytes']

"""Drawing of test predictions that keeps samples of several sets apart."""
import os.path as osp
from typing import Optional, Sequence

import mmcv
import mmengine.fileio as fileio
from mmengine.runner import Runner
from mmseg.engine.hooks import SegVisualizationHook
from mmseg.registry import HOOKS
from mmseg.structures import SegDataSample


@HOOKS.register_module()
class SubsetSegVisualizationHook(SegVisualizationHook):
    """mmseg ``SegVisualizationHook`` that gives every sample its own file.

    mmseg names a drawing after the image's file name only
    (``test_1.png``), so when one dataloader holds several sets whose files
    share names (the five PraNet polyp test sets all start at ``1.png``),
    each set's drawing overwrites the previous one. Samples that carry a
    ``subset`` (the set's name, see ``PolypDataset(subset=...)``) are named
    ``<mode>_<subset>_<file name>`` here; others as in mmseg.

    Where the drawings go:

    - ``test_out_dir`` set (``tools/test.py --show-dir D`` sets it): test
      drawings are written as ``<test_out_dir>/<subset>/<file name>``
      (``<test_out_dir>/<file name>`` for samples without ``subset``); a
      relative ``test_out_dir`` is taken under ``<work_dir>/<timestamp>``,
      as mmdet's ``DetVisualizationHook`` does;
    - otherwise through the visualizer's backends (``LocalVisBackend``:
      ``<save_dir>/vis_data/vis_image/<name>_<step>.png``), as in mmseg.

    Args:
        test_out_dir (str, optional): Folder for the test drawings.
            Defaults to None (the visualizer's backends).
        **kwargs: ``draw``, ``interval``, ``show``, ``wait_time``,
            ``backend_args`` of :class:`SegVisualizationHook`.
    """

    def __init__(self, test_out_dir: Optional[str] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.test_out_dir = test_out_dir

    def before_test(self, runner: Runner) -> None:
        if self.test_out_dir is not None:
            # absolute paths are kept by the join
            self.test_out_dir = osp.join(runner.work_dir, runner.timestamp,
                                         self.test_out_dir)

    def _after_iter(self,
                    runner: Runner,
                    batch_idx: int,
                    data_batch: dict,
                    outputs: Sequence[SegDataSample],
                    mode: str = 'val') -> None:
        """Draw every ``interval``-th batch (as mmseg), one file each."""
        if self.draw is False or mode == 'train':
            return
        if not self.every_n_inner_iters(batch_idx, self.interval):
            return
        # mmseg passes runner.iter, which builds the training loop (and its
        # dataset) in a test run: the step is the training iteration only
        # during validation
        step = runner.iter if mode == 'val' else 0
        for output in outputs:
            img_path = output.img_path
            img_bytes = fileio.get(img_path, backend_args=self.backend_args)
            img = mmcv.imfrombytes(img_bytes, channel_order='rgb')
            subset = output.metainfo.get('subset')
            name = osp.basename(img_path)
            out_file = None
            if mode == 'test' and self.test_out_dir is not None:
                # mmcv.imwrite creates the folder
                out_file = osp.join(self.test_out_dir, subset or '', name)
            self._visualizer.add_datasample(
                f'{mode}_{subset}_{name}' if subset else f'{mode}_{name}',
                img,
                data_sample=output,
                show=self.show,
                wait_time=self.wait_time,
                out_file=out_file,
                step=step)

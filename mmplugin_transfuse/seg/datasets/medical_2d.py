"""Generic multi-class 2-D medical segmentation dataset with pixel spacing."""
import os.path as osp
from typing import List, Optional, Sequence

import mmengine
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .checked_files import CheckedSegFilesMixin


@DATASETS.register_module()
class Medical2DDataset(CheckedSegFilesMixin, BaseSegDataset):
    """Multi-class 2-D segmentation with optional per-sample metadata.

    Meant for private data such as the hip X-rays of TransFuse (paper
    Table 3: pelvis, left femur, right femur), where distances must be
    reported in millimetres. The class names come from the config
    (``metainfo=dict(classes=(...), palette=...)``); masks hold class ids
    ``0 .. C-1`` (0 is usually background), e.g.::

        <data_root>/images/<name>.png
        <data_root>/masks/<name>.png        # uint8 class ids
        <data_root>/splits/{train,val}.txt  # names without suffix
        <data_root>/meta.json               # optional, see ``meta_file``

    The sample files are checked at construction
    (:class:`CheckedSegFilesMixin`), and
    :class:`CheckedLoadAnnotations` rejects mask values ``>= C`` other than
    255 (the ignore index).

    Args:
        meta_file (str, optional): JSON file (relative to ``data_root``)
            mapping each sample name (image path relative to
            ``data_prefix['img_path']``, without suffix) to a dict that is
            merged into the sample, e.g.
            ``{"case01": {"spacing": [0.14, 0.14]}}``. Every sample must have
            an entry. Keys reach the metrics when they are listed in
            ``PackSegInputs(meta_keys=...)``. Defaults to None.
        spacing (Sequence[float], optional): Pixel spacing in mm, in array
            axis order ``(row, col)``, for samples without their own
            ``spacing``. Defaults to None (no spacing stored).
        img_suffix (str): Defaults to ``'.png'``.
        seg_map_suffix (str): Defaults to ``'.png'``.
        reduce_zero_label (bool): Defaults to False.
        **kwargs: Passed to :class:`mmseg.datasets.BaseSegDataset`; must
            include ``metainfo=dict(classes=...)`` unless a subclass sets
            ``METAINFO``.
    """

    def __init__(self,
                 meta_file: Optional[str] = None,
                 spacing: Optional[Sequence[float]] = None,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 reduce_zero_label: bool = False,
                 **kwargs) -> None:
        if not ((kwargs.get('metainfo') or {}).get('classes')
                or self.METAINFO.get('classes')):
            raise ValueError(
                f'{type(self).__name__} needs class names: pass '
                "metainfo=dict(classes=('background', ...)) in the config")
        self.meta_file = meta_file
        self.spacing = None if spacing is None else [float(s) for s in spacing]
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)

    def _join_prefix(self) -> None:
        """Also resolve ``meta_file`` against ``data_root``."""
        super()._join_prefix()
        if self.meta_file and self.data_root and not osp.isabs(
                self.meta_file):
            self.meta_file = osp.join(self.data_root, self.meta_file)

    def load_data_list(self) -> List[dict]:
        """Samples of :class:`BaseSegDataset` plus their metadata entries."""
        data_list = super().load_data_list()
        img_dir = self.data_prefix.get('img_path', None) or ''
        meta = None
        if self.meta_file:
            if not osp.isfile(self.meta_file):
                raise FileNotFoundError(
                    f'meta_file {self.meta_file} does not exist (it is '
                    'written by the dataset converter)')
            meta = mmengine.load(self.meta_file, file_format='json')
        for info in data_list:
            name = osp.relpath(info['img_path'], img_dir)
            name = name[:-len(self.img_suffix)] if self.img_suffix else name
            info['sample_name'] = name
            if meta is not None:
                if name not in meta:
                    raise KeyError(
                        f'sample {name!r} has no entry in {self.meta_file}')
                info.update(meta[name])
            if self.spacing is not None and 'spacing' not in info:
                info['spacing'] = list(self.spacing)
        return data_list

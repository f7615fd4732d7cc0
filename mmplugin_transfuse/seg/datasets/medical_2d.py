"""Generic multi-class 2-D medical segmentation dataset with pixel spacing."""
import math
import os.path as osp
from typing import Any, List, Optional, Sequence

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from mmplugin_transfuse.utils.messages import load_json_file
from .checked_files import CheckedSegFilesMixin


def is_spacing(value: Any, min_len: int) -> bool:
    """A list of at least ``min_len`` positive finite numbers (mm)."""
    return (isinstance(value, (list, tuple)) and len(value) >= min_len
            and all(
                isinstance(v, (int, float)) and not isinstance(v, bool)
                and math.isfinite(v) and v > 0 for v in value))


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
            an entry (an object; ``spacing``, when given, at least
            ``SPACING_LEN`` positive numbers). Keys reach the metrics when
            they are listed in ``PackSegInputs(meta_keys=...)``. Defaults
            to None.
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

    #: spacing values a sample needs: (row, col)
    SPACING_LEN = 2

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
            meta = load_json_file(self.meta_file)
            if not isinstance(meta, dict):
                raise ValueError(
                    f'{self.meta_file}: the top level must be a JSON object '
                    'mapping sample names to their metadata, got '
                    f'{type(meta).__name__}')
        for info in data_list:
            name = osp.relpath(info['img_path'], img_dir)
            name = name[:-len(self.img_suffix)] if self.img_suffix else name
            info['sample_name'] = name
            if meta is not None:
                if name not in meta:
                    raise KeyError(
                        f'sample {name!r} has no entry in {self.meta_file}')
                self._check_meta_entry(name, meta[name])
                info.update(meta[name])
            if self.spacing is not None and 'spacing' not in info:
                info['spacing'] = list(self.spacing)
        return data_list

    def _check_meta_entry(self, name: str, entry: Any) -> None:
        """``ValueError`` naming ``meta_file`` and the sample when its entry
        is not an object or its ``spacing`` is not positive numbers."""
        if not isinstance(entry, dict):
            raise ValueError(f'{self.meta_file}: the entry of sample {name!r} '
                             f'must be a JSON object, got {entry!r}')
        if 'spacing' in entry and not is_spacing(entry['spacing'],
                                                 self.SPACING_LEN):
            raise ValueError(
                f'{self.meta_file}: sample {name!r}: "spacing" must be '
                f'{self.SPACING_LEN} or more positive numbers (mm, array '
                f'axis order), got {entry["spacing"]!r}')

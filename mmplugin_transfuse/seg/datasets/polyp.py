"""Binary polyp segmentation datasets (Kvasir-SEG and PraNet layouts)."""
from typing import List, Optional

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .checked_files import CheckedSegFilesMixin


@DATASETS.register_module()
class PolypDataset(CheckedSegFilesMixin, BaseSegDataset):
    """Binary polyp segmentation: class 0 background, class 1 polyp.

    Reads ``<data_root>/<img_path>/<name><img_suffix>`` with the mask at
    ``<data_root>/<seg_map_path>/<name><seg_map_suffix>``; ``ann_file`` (one
    name per line, no suffix) selects a split, otherwise every image in
    ``img_path`` is used.

    Two mask encodings are met in practice:

    - the raw releases (and ``data/synthetic_polyp``) store 0/255 masks
      (JPEG in Kvasir-SEG, so not exactly 0/255): the pipeline must binarise
      them, at 128 (the midpoint of 0/255), with
      ``CheckedLoadAnnotations(binarize_threshold=128)`` (or
      :class:`BinarizeMask` after ``LoadAnnotations``);
    - the converters in ``tools/dataset_converters/`` (``polyp_pranet.py``,
      ``kvasir_seg.py``, ``cvc_clinicdb.py``) write 0/1 PNG masks that are
      used as they are.

    The sample files are checked at construction
    (:class:`CheckedSegFilesMixin`: images without a mask, masks without an
    image, names of ``ann_file`` without an image are errors).

    Defaults follow the raw Kvasir-SEG release (``images/*.jpg``,
    ``masks/*.jpg``), which is also the synthetic polyp set's layout.

    Args:
        subset (str, optional): Name of the test set this dataset is (e.g.
            ``'Kvasir'``), stored in every sample as ``subset``. With
            ``PackSegInputs(meta_keys=(..., 'subset'))`` it reaches the
            metric, which then reports each set separately when several
            sets are concatenated into one test dataloader (PraNet protocol:
            five test sets in one run). Defaults to None (not stored).
        img_suffix (str): Defaults to ``'.jpg'``.
        seg_map_suffix (str): Defaults to ``'.jpg'``.
        reduce_zero_label (bool): Defaults to False (0 is background).
        **kwargs: Passed to :class:`mmseg.datasets.BaseSegDataset`.
    """

    METAINFO = dict(
        classes=('background', 'polyp'),
        palette=[[0, 0, 0], [255, 40, 40]])  # polyp drawn red

    def __init__(self,
                 subset: Optional[str] = None,
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = '.jpg',
                 reduce_zero_label: bool = False,
                 **kwargs) -> None:
        self.subset = subset
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """Samples of :class:`BaseSegDataset`, tagged with ``subset``."""
        data_list = super().load_data_list()
        if self.subset is not None:
            for info in data_list:
                info['subset'] = self.subset
        return data_list

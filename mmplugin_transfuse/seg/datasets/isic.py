"""ISIC 2017 skin-lesion segmentation (challenge Part 1)."""
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .checked_files import CheckedSegFilesMixin


@DATASETS.register_module()
class ISIC2017Dataset(CheckedSegFilesMixin, BaseSegDataset):
    """ISIC 2017 lesion segmentation: class 0 background, class 1 lesion.

    Reads the layout written by ``tools/dataset_converters/isic2017.py``::

        <data_root>/images/{train,val,test}/ISIC_xxxxxxx.jpg
        <data_root>/masks/{train,val,test}/ISIC_xxxxxxx.png   # 0/1

    Every image of ``data_prefix['img_path']`` is used (sorted by name), or
    the names listed in ``ann_file``. The raw challenge folders can be read
    too, with ``seg_map_suffix='_segmentation.png'`` and
    ``CheckedLoadAnnotations(binarize_threshold=128)`` (the raw masks are
    0/255); the superpixel files never match because samples are listed
    from the ``.jpg`` images. The sample files are checked at construction
    (:class:`CheckedSegFilesMixin`).

    Args:
        img_suffix (str): Defaults to ``'.jpg'``.
        seg_map_suffix (str): Defaults to ``'.png'``.
        reduce_zero_label (bool): Defaults to False.
        **kwargs: Passed to :class:`mmseg.datasets.BaseSegDataset`.
    """

    METAINFO = dict(
        classes=('background', 'lesion'),
        palette=[[0, 0, 0], [255, 255, 255]])

    def __init__(self,
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = '.png',
                 reduce_zero_label: bool = False,
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)

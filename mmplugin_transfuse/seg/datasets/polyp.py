"""Binary polyp segmentation datasets (Kvasir-SEG layout and PraNet layout)."""
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS


@DATASETS.register_module()
class PolypDataset(BaseSegDataset):
    """Binary polyp segmentation: class 0 background, class 1 polyp.

    Reads ``<data_root>/<img_path>/<name><img_suffix>`` with the mask at
    ``<data_root>/<seg_map_path>/<name><seg_map_suffix>``; ``ann_file`` (one
    name per line, no suffix) selects a split. Masks are stored as 0/255
    images (JPEG in Kvasir-SEG, so not exactly 0/255): the pipeline must
    binarise them with :class:`BinarizeMask` after ``LoadAnnotations``.

    Defaults follow the raw Kvasir-SEG release (``images/*.jpg``,
    ``masks/*.jpg``), which is also the synthetic polyp set's layout.
    """

    METAINFO = dict(
        classes=('background', 'polyp'),
        palette=[[0, 0, 0], [255, 255, 255]])

    def __init__(self,
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = '.jpg',
                 reduce_zero_label: bool = False,
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)

"""Medical segmentation datasets and transforms (mmseg registries)."""
from .checked_annotations import CheckedLoadAnnotations
from .checked_files import CheckedSegFilesMixin
from .dataset_wrappers import SharedPipelineConcatDataset
from .isic import ISIC2017Dataset
from .loading import LoadMultiModalSliceFromFiles
from .medical_2d import Medical2DDataset
from .polyp import PolypDataset
from .preprocessing import binarize_mask
from .prostate import ProstateSliceDataset
from .transforms import BinarizeMask, SoftMask

__all__ = [
    'PolypDataset', 'ISIC2017Dataset', 'Medical2DDataset',
    'ProstateSliceDataset', 'BinarizeMask', 'LoadMultiModalSliceFromFiles',
    'CheckedLoadAnnotations', 'CheckedSegFilesMixin', 'binarize_mask',
    'SoftMask', 'SharedPipelineConcatDataset'
]

"""Detection datasets and transforms (registered into mmdet)."""
from .checked_coco import CheckedCOCO, CheckedCocoDataset, validate_coco_dict
from .loading import CheckedLoadImageFromFile, check_image_bytes

__all__ = [
    'CheckedCOCO', 'CheckedCocoDataset', 'validate_coco_dict',
    'CheckedLoadImageFromFile', 'check_image_bytes'
]

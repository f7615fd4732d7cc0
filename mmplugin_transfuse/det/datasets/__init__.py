"""Detection datasets and transforms (registered into mmdet)."""
from mmplugin_transfuse.utils.image_checks import (CheckedLoadImageFromFile,
                                                   check_image_bytes)
from .checked_coco import CheckedCOCO, CheckedCocoDataset, validate_coco_dict

__all__ = [
    'CheckedCOCO', 'CheckedCocoDataset', 'validate_coco_dict',
    'CheckedLoadImageFromFile', 'check_image_bytes'
]

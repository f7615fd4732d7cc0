"""Medical segmentation metrics (registered into mmseg's METRICS)."""
from .functional import (confusion_counts, dice_from_counts, iou_from_counts,
                         mask_surface, surface_distance_measures,
                         surface_distances)
from .medical_metric import MedicalSegMetric
from .per_image_metric import PerImageDiceMetric
from .surface_distance_metric import SurfaceDistanceMetric
from .volume_dice_metric import PerVolumeDiceMetric

__all__ = [
    'MedicalSegMetric', 'PerImageDiceMetric', 'PerVolumeDiceMetric',
    'SurfaceDistanceMetric',
    'confusion_counts', 'dice_from_counts', 'iou_from_counts', 'mask_surface',
    'surface_distances', 'surface_distance_measures'
]

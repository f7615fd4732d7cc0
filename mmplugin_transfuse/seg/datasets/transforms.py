"""Data transforms for medical segmentation masks."""
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class BinarizeMask(BaseTransform):
    """Map a 0/255 mask (possibly JPEG-noisy) to 0/1 class ids.

    Pixels ``>= threshold`` become 1, the rest 0. The default 128 is the
    midpoint of 0/255, so JPEG ringing around the boundary (values near 0
    or near 255) is assigned to the nearer class. Must follow
    ``LoadAnnotations``.

    Required keys: ``gt_seg_map``. Modified keys: ``gt_seg_map`` (uint8).
    """

    def __init__(self, threshold: int = 128) -> None:
        self.threshold = threshold

    def transform(self, results: dict) -> dict:
        seg = results['gt_seg_map']
        if seg.ndim == 3:  # a colour-saved mask: take its mean over channels
            seg = seg.mean(axis=2)
        results['gt_seg_map'] = (seg >= self.threshold).astype(np.uint8)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(threshold={self.threshold})'

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
    ``LoadAnnotations``; ``CheckedLoadAnnotations(binarize_threshold=128)``
    (used by the base dataset configs) applies this transform itself,
    after checking the mask file and its size, before checking the values.

    A mask whose values all lie in {0, 1} already holds class ids (the
    converters in ``tools/dataset_converters/`` write such masks) and is
    returned unchanged: thresholding it at 128 would silently erase every
    object. (An empty JPEG mask decodes to exact zeros, so this cannot
    misread JPEG noise.)

    Required keys: ``gt_seg_map``. Modified keys: ``gt_seg_map`` (uint8).
    """

    def __init__(self, threshold: int = 128) -> None:
        self.threshold = threshold

    def transform(self, results: dict) -> dict:
        seg = results['gt_seg_map']
        if seg.ndim == 3:  # a colour-saved mask: take its mean over channels
            seg = seg.mean(axis=2)
        if seg.max(initial=0) <= 1:
            results['gt_seg_map'] = (seg >= 1).astype(np.uint8)
        else:
            results['gt_seg_map'] = (seg >= self.threshold).astype(np.uint8)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(threshold={self.threshold})'

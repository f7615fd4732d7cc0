"""Data transforms for medical segmentation masks."""
from typing import Optional, Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmseg.registry import TRANSFORMS
from .preprocessing import binarize_mask


@TRANSFORMS.register_module()
class BinarizeMask(BaseTransform):
    """Map a 0/255 mask (possibly JPEG-noisy) to 0/1 class ids.

    Applies :func:`binarize_mask` (one rule for the pipeline and the
    converters): pixels ``>= threshold`` become 1; a mask whose values all
    lie in {0, 1} already holds class ids and is kept. Must follow
    ``LoadAnnotations``; ``CheckedLoadAnnotations(binarize_threshold=128)``
    (used by the base dataset configs) applies this transform itself,
    after checking the mask file and its size, before checking the values.

    Required keys: ``gt_seg_map``. Modified keys: ``gt_seg_map`` (uint8).
    """

    def __init__(self, threshold: int = 128) -> None:
        self.threshold = threshold

    def transform(self, results: dict) -> dict:
        results['gt_seg_map'] = binarize_mask(results['gt_seg_map'],
                                              self.threshold)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(threshold={self.threshold})'


@TRANSFORMS.register_module()
class SoftMask(BaseTransform):
    """Keep a 0/255 mask soft, as the TransFuse reference trains on it.

    The reference (``process.py`` + ``utils/dataloader.py``) resizes the raw
    0/255 ISIC masks bilinearly (``cv2.resize``) to 192x256, stores them as
    uint8 and trains on ``mask / 255``: boundary pixels get fractional
    targets, and pixels padded by its ``ShiftScaleRotate(border_mode=0)``
    are background. This transform resizes ``gt_seg_map`` bilinearly to
    ``scale`` and keeps its 0..255 values; :class:`StructureLoss` with
    ``soft_target=True`` divides them by 255. Pad the map with 0 afterwards
    (``seg_pad_val=0`` in the geometric transforms and the data
    preprocessor) so that padding counts as background.

    The default pipeline binarises instead (:class:`BinarizeMask`): it
    works for multi-class masks and datasets already converted to 0/1 and
    keeps padding out of the loss; this transform is the switch for
    reproducing the reference's targets. A 0/1 mask (already binarised) is
    scaled to 0/255 first; its lost boundary softness cannot be recovered,
    so convert the dataset without ``--size`` to keep it.

    Args:
        scale (tuple[int, int], optional): ``(w, h)`` output size (mmcv
            order); None keeps the size.

    Required keys: ``gt_seg_map`` ((H, W) or (H, W, C) 0/255 or 0/1).
    Modified keys: ``gt_seg_map`` (uint8 0..255, soft).
    """

    def __init__(self, scale: Optional[Sequence[int]] = None) -> None:
        if scale is not None and len(scale) != 2:
            raise ValueError(f'SoftMask.scale={scale!r}: expected (w, h)')
        self.scale = None if scale is None else tuple(int(s) for s in scale)

    def transform(self, results: dict) -> dict:
        seg = np.asarray(results['gt_seg_map'])
        if seg.ndim == 3:  # a colour-saved mask
            seg = seg.mean(axis=2)
        if seg.ndim != 2:
            raise ValueError(f'SoftMask: expected an (H, W) mask, got shape '
                             f"{seg.shape} ({results.get('seg_map_path')})")
        seg = seg.astype(np.float32)
        if seg.max(initial=0) <= 1:
            seg = seg * 255.
        if self.scale is not None and seg.shape[::-1] != self.scale:
            seg = cv2.resize(seg, self.scale, interpolation=cv2.INTER_LINEAR)
        results['gt_seg_map'] = np.clip(np.round(seg), 0,
                                         255).astype(np.uint8)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(scale={self.scale})'

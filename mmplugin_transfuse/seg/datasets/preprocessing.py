"""Mask binarisation shared by :class:`BinarizeMask` and the converters.

One function, so the converters (``mmplugin_transfuse.data_prep``) and the
training pipeline apply exactly the same rule.
"""

import numpy as np


def binarize_mask(mask: np.ndarray, threshold: int = 128) -> np.ndarray:
    """Turn a 0/255 mask (possibly JPEG-noisy or saved in colour) into 0/1.

    Pixels ``>= threshold`` become 1. The default 128 is the midpoint of
    0/255, so JPEG ringing near the boundary goes to the nearer class. A
    mask whose values all lie in {0, 1} already holds class ids (what the
    converters write) and is kept as it is: thresholding it at 128 would
    silently erase every object. :class:`BinarizeMask` applies this
    function in the data pipeline.

    Args:
        mask (np.ndarray): ``(H, W)`` or ``(H, W, C)`` mask; a colour mask is
            averaged over its channels first.
        threshold (int): Defaults to 128.

    Returns:
        np.ndarray: ``(H, W)`` uint8 array of 0/1.
    """
    if mask.ndim == 3:
        mask = mask.mean(axis=2)
    if mask.ndim != 2:
        raise ValueError(
            f'expected an (H, W) or (H, W, C) mask, got shape {mask.shape}')
    if mask.max(initial=0) <= 1:
        return (mask >= 1).astype(np.uint8)
    return (mask >= threshold).astype(np.uint8)

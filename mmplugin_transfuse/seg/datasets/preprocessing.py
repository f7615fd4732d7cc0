"""Array conversions shared by the dataset converters and the volume tools.

They live in the package (not in ``tools/``) so that the converters, the
whole-volume evaluation tool and the tests apply exactly the same mask
binarisation and MR intensity scaling.
"""
from typing import Tuple

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


def intensity_to_uint8(
        volume: np.ndarray,
        percentiles: Tuple[float, float] = (0.5, 99.5)) -> np.ndarray:
    """Scale one MR modality of one volume to 0..255.

    MR intensities have no absolute unit, so each modality of each volume is
    clipped to its own ``percentiles`` (robust to a few hot voxels) and
    mapped linearly to 0..255, the input range of ImageNet-style
    normalisation. A constant volume maps to zeros.

    Args:
        volume (np.ndarray): One modality, any shape, e.g. ``(X, Y, Z)``.
        percentiles (tuple[float, float]): Lower and upper clip percentiles.
            Defaults to (0.5, 99.5).

    Returns:
        np.ndarray: uint8 array of the same shape.
    """
    volume = np.asarray(volume, dtype=np.float32)
    lo, hi = np.percentile(volume, percentiles)
    if hi <= lo:
        return np.zeros(volume.shape, dtype=np.uint8)
    scaled = (np.clip(volume, lo, hi) - lo) / (hi - lo) * 255.0
    return np.round(scaled).astype(np.uint8)

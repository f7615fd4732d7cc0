"""Overlap and surface-distance measures on label maps (numpy, no state).

All functions take integer label maps (or boolean masks) of identical shape,
2-D ``(H, W)`` or 3-D ``(D, H, W)``; spacings are given in the same axis
order as the arrays, in millimetres.

Empty-mask conventions (used by every metric of this package):

- **Dice / IoU**: a class absent from both prediction and ground truth
  scores ``empty_score`` (default 1.0: nothing to find and nothing found is
  a perfect result, as the TransFuse reference code's smoothed
  ``(I + 0.001) / (U + 0.001)`` gives); pass ``None`` to get NaN, which the
  metrics leave out of their means. Exactly one of them empty gives 0.
- **Surface distances** (HD, ASD): both empty gives 0 mm (case
  ``'both_empty'``); exactly one empty has no defined distance (case
  ``'empty_pred'`` or ``'empty_gt'``) and gives the caller's
  ``empty_value`` (NaN by default, i.e. left out of the mean and counted).
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from scipy import ndimage

BOTH_EMPTY = 'both_empty'
EMPTY_PRED = 'empty_pred'
EMPTY_GT = 'empty_gt'
VALID = 'valid'


def confusion_counts(pred: np.ndarray,
                     gt: np.ndarray,
                     class_ids: Sequence[int],
                     ignore_index: Optional[int] = 255) -> np.ndarray:
    """Per-class intersection, predicted area and ground-truth area.

    Args:
        pred (np.ndarray): Predicted class ids, any shape.
        gt (np.ndarray): Ground-truth class ids, same shape as ``pred``.
        class_ids (Sequence[int]): Classes to count, ``K`` of them.
        ignore_index (int, optional): Ground-truth value whose pixels are
            left out of every count. Defaults to 255.

    Returns:
        np.ndarray: ``(K, 3)`` int64, columns ``(|P∩G|, |P|, |G|)``.
    """
    if pred.shape != gt.shape:
        raise ValueError(f'prediction shape {pred.shape} differs from '
                         f'ground-truth shape {gt.shape}')
    if ignore_index is not None:
        valid = gt != ignore_index
        pred, gt = pred[valid], gt[valid]
    counts = np.zeros((len(class_ids), 3), dtype=np.int64)
    for k, c in enumerate(class_ids):
        p, g = pred == c, gt == c
        counts[k] = (np.count_nonzero(p & g), np.count_nonzero(p),
                     np.count_nonzero(g))
    return counts


def _ratio(num: np.ndarray, den: np.ndarray,
           empty_score: Optional[float]) -> np.ndarray:
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    fill = np.nan if empty_score is None else float(empty_score)
    out = np.full(np.broadcast(num, den).shape, fill, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def dice_from_counts(counts: np.ndarray,
                     empty_score: Optional[float] = 1.0) -> np.ndarray:
    """Dice ``2|P∩G| / (|P| + |G|)`` from ``(..., 3)`` counts.

    Args:
        counts (np.ndarray): ``(..., 3)`` as from :func:`confusion_counts`.
        empty_score (float, optional): Value where ``|P| + |G| = 0``; None
            gives NaN. Defaults to 1.0.

    Returns:
        np.ndarray: ``counts.shape[:-1]`` float64.
    """
    inter, p, g = counts[..., 0], counts[..., 1], counts[..., 2]
    return _ratio(2 * inter, p + g, empty_score)


def iou_from_counts(counts: np.ndarray,
                    empty_score: Optional[float] = 1.0) -> np.ndarray:
    """IoU (Jaccard) ``|P∩G| / |P∪G|`` from ``(..., 3)`` counts.

    Args:
        counts (np.ndarray): ``(..., 3)`` as from :func:`confusion_counts`.
        empty_score (float, optional): Value where ``|P∪G| = 0``; None gives
            NaN. Defaults to 1.0.

    Returns:
        np.ndarray: ``counts.shape[:-1]`` float64.
    """
    inter, p, g = counts[..., 0], counts[..., 1], counts[..., 2]
    return _ratio(inter, p + g - inter, empty_score)


def mask_surface(mask: np.ndarray) -> np.ndarray:
    """Surface (border) pixels/voxels of a boolean mask.

    A foreground element is on the surface when one of its face neighbours
    (4-connectivity in 2-D, 6 in 3-D) is background; the outside of the
    array counts as background, so objects touching the image edge are
    closed there (the convention of medpy and of the nnU-Net evaluation).

    Args:
        mask (np.ndarray): Boolean, ``(H, W)`` or ``(D, H, W)``.

    Returns:
        np.ndarray: Boolean, same shape.
    """
    mask = np.asarray(mask, dtype=bool)
    structure = ndimage.generate_binary_structure(mask.ndim, 1)
    eroded = ndimage.binary_erosion(mask, structure=structure, border_value=0)
    return mask & ~eroded


def surface_distances(pred: np.ndarray, gt: np.ndarray,
                      spacing: Sequence[float]) -> Tuple[np.ndarray,
                                                         np.ndarray]:
    """Distances between the surfaces of two non-empty masks, in mm.

    Uses the exact Euclidean distance transform with anisotropic
    ``sampling`` (:func:`scipy.ndimage.distance_transform_edt`), measured
    between element centres.

    Args:
        pred (np.ndarray): Boolean mask, ``(H, W)`` or ``(D, H, W)``.
        gt (np.ndarray): Boolean mask, same shape.
        spacing (Sequence[float]): Element size per axis, in mm.

    Returns:
        tuple[np.ndarray, np.ndarray]: For every surface element of
        ``pred`` the distance to the nearest surface element of ``gt``, and
        the same from ``gt`` to ``pred``.
    """
    pred = np.asarray(pred, dtype=bool)
    gt = np.asarray(gt, dtype=bool)
    if pred.shape != gt.shape:
        raise ValueError(f'prediction shape {pred.shape} differs from '
                         f'ground-truth shape {gt.shape}')
    if len(spacing) != pred.ndim:
        raise ValueError(f'spacing {tuple(spacing)} has {len(spacing)} '
                         f'entries for a {pred.ndim}-D mask')
    if not pred.any() or not gt.any():
        raise ValueError('surface distances need two non-empty masks')
    surf_p, surf_g = mask_surface(pred), mask_surface(gt)
    spacing = [float(s) for s in spacing]
    dist_to_g = ndimage.distance_transform_edt(~surf_g, sampling=spacing)
    dist_to_p = ndimage.distance_transform_edt(~surf_p, sampling=spacing)
    return dist_to_g[surf_p], dist_to_p[surf_g]


def hd_key(percentile: float) -> str:
    """Metric name of a Hausdorff percentile: ``HD95``, ``HDmax`` (100)."""
    return 'HDmax' if percentile == 100 else f'HD{percentile:g}'


def surface_distance_measures(
        pred: np.ndarray,
        gt: np.ndarray,
        spacing: Sequence[float],
        percentiles: Sequence[float] = (95, 100),
        empty_value: float = float('nan')) -> Tuple[Dict[str, float], str]:
    """Hausdorff distances and average surface distance of one object, mm.

    - ``HD{p}``: the ``p``-th percentile (numpy's linear interpolation) of
      the distances of both directions pooled, as medpy's ``hd95``;
      ``HDmax`` (``p = 100``) is the classic symmetric Hausdorff distance.
    - ``ASD``: the mean of the pooled distances (average symmetric surface
      distance, as MONAI's ``average_surface_distance(symmetric=True)``).

    Args:
        pred (np.ndarray): Boolean mask, ``(H, W)`` or ``(D, H, W)``.
        gt (np.ndarray): Boolean mask, same shape.
        spacing (Sequence[float]): Element size per axis, in mm.
        percentiles (Sequence[float]): Hausdorff percentiles in (0, 100].
            Defaults to (95, 100).
        empty_value (float): Every distance when exactly one mask is empty.
            Defaults to NaN.

    Returns:
        tuple[dict[str, float], str]: The distances keyed ``HD95``,
        ``HDmax``, ``ASD``, and the case: ``'valid'``, ``'both_empty'``
        (all distances 0), ``'empty_pred'`` or ``'empty_gt'`` (all
        ``empty_value``).
    """
    keys = [hd_key(p) for p in percentiles] + ['ASD']
    has_p, has_g = bool(np.any(pred)), bool(np.any(gt))
    if not has_p and not has_g:
        return {k: 0.0 for k in keys}, BOTH_EMPTY
    if not has_p or not has_g:
        case = EMPTY_PRED if not has_p else EMPTY_GT
        return {k: float(empty_value) for k in keys}, case
    d_pg, d_gp = surface_distances(pred, gt, spacing)
    pooled = np.concatenate([d_pg, d_gp])
    out = {hd_key(p): float(np.percentile(pooled, p)) for p in percentiles}
    out['ASD'] = float(pooled.mean())
    return out, VALID


def fov_diagonal(shape: Sequence[int], spacing: Sequence[float]) -> float:
    """Diagonal of the field of view ``sqrt(sum((n_i * s_i)^2))`` in mm."""
    return float(
        np.sqrt(sum((n * s)**2 for n, s in zip(shape, spacing))))

"""SMCA's Gaussian-like spatial prior G, returned as log G (an attention bias).

Paper (Gao et al., ICCV 2021, Sec. 3.2, Eq. 3-4)::

    G(i, j) = exp(-(i - c_w)^2 / (beta * s_w^2) - (j - c_h)^2 / (beta * s_h^2))
    C = softmax(K^T Q / sqrt(d) + log G) V

The reference code (gaopengcuhk/SMCA-DETR) differs from Eq. 3 in one place,
and this module follows the reference code:

* the predicted scale **multiplies** the squared distance (it is an inverse
  bandwidth), ``log G = -sum_axis(s_axis^2 * (p_axis - c_axis)^2) / beta``.

The reference code's fourth mode (``--dynamic_scale type4``, ``Cov`` here)
is not in the paper. Its help text calls it a "covariance matrix scale", but
the code does not build a 2x2 covariance: it adds a third learned weight on
the *product of the squared* per-axis distances,
``dist = s_x^2 dx^2 + s_y^2 dy^2 + s_xy^2 dx^2 dy^2`` (all three weights
squared, so the term never changes sign). This module computes exactly
that, so official ``type4`` checkpoints give the official outputs.

Units follow the reference code as well: keys sit on the integer grid of
feature-map cells ``x in 0..w-1``, ``y in 0..h-1`` of the (padded) feature map
(no half-cell shift), centres and offsets are in cells, coordinates are in
``(x, y)`` order.
"""
from typing import Optional

import torch
from torch import Tensor


def key_grid(height: int,
             width: int,
             device: Optional[torch.device] = None) -> Tensor:
    """Cell coordinates of the flattened key sequence.

    Args:
        height (int): Feature-map height ``h`` (padded batch, in cells).
        width (int): Feature-map width ``w``.
        device (torch.device, optional): Device of the result.

    Returns:
        Tensor: ``(h * w, 2)`` float32, ``(x, y)`` of key ``k = y * w + x``,
        the order of ``feat.flatten(2)`` in mmdet's ``DETR.pre_transformer``.
    """
    ys, xs = torch.meshgrid(
        torch.arange(height, dtype=torch.float32, device=device),
        torch.arange(width, dtype=torch.float32, device=device),
        indexing='ij')
    return torch.stack((xs, ys), dim=-1).view(-1, 2)


def gaussian_log_prior(points: Tensor,
                       grid: Tensor,
                       scales: Optional[Tensor] = None,
                       beta: float = 8.0,
                       dtype: Optional[torch.dtype] = None) -> Tensor:
    """``log G`` of every (query, head) over the key grid (attention bias).

    ``log G[b * nh + n, q, k] = -sum_a(scales[b, q, n, a]^2 *
    (points[b, q, n, a] - grid[k, a])^2) / beta`` with ``a`` over ``(x, y)``.
    A scale with one channel (``Single`` mode) multiplies the summed squared
    distance; ``scales=None`` (``Fixed`` mode) means scale 1; three channels
    (``Cov`` mode, reference ``type4``) are ``(s_x, s_y, s_xy)`` and add
    ``s_xy^2 * dx^2 * dy^2`` to the ``Indep`` distance.

    The value is computed in float32 and clamped to half of the smallest
    finite value of ``dtype`` before the cast, so that fp16/bf16 never turns
    a far key into ``-inf`` (a query whose keys were all ``-inf`` would get
    NaN from softmax) and adding the content logits cannot overflow either.
    Key padding is *not* applied here: pass the result as ``attn_mask``
    together with ``key_padding_mask``; torch adds ``-inf`` at padded keys,
    so they stay masked whatever the prior is (the reference code, too, adds
    log G after key-padding masking, before softmax).

    Args:
        points (Tensor): Per-head Gaussian centres in feature-map cells,
            ``(bs, num_queries, num_heads, 2)`` in ``(x, y)`` order.
        grid (Tensor): Key coordinates from :func:`key_grid`, ``(h * w, 2)``.
        scales (Tensor, optional): Inverse bandwidths, ``(bs, num_queries,
            num_heads, 2)`` (``Indep``, ``(x, y)``), ``(..., 1)``
            (``Single``) or ``(..., 3)`` (``Cov``, ``(x, y, xy)``). None
            (``Fixed``) means 1.
        beta (float): Smoothing constant of the prior. Defaults to 8, the
            reference code's ``smooth``.
        dtype (torch.dtype, optional): Output dtype (the attention's dtype).
            Defaults to ``points.dtype``.

    Returns:
        Tensor: ``(bs * num_heads, num_queries, h * w)``, batch-major like
        torch's multi-head attention (index ``b * num_heads + head``).
    """
    if points.dim() != 4 or points.size(-1) != 2:
        raise ValueError('gaussian_log_prior: `points` must have shape '
                         '(bs, num_queries, num_heads, 2), got '
                         f'{tuple(points.shape)}')
    if grid.dim() != 2 or grid.size(-1) != 2:
        raise ValueError('gaussian_log_prior: `grid` must have shape '
                         f'(num_keys, 2), got {tuple(grid.shape)}')
    out_dtype = dtype if dtype is not None else points.dtype
    bs, num_queries, num_heads, _ = points.shape
    # (bs, nq, nh, 1, 2) - (K, 2) -> (bs, nq, nh, K, 2), squared per axis
    sq_dist = (points.float().unsqueeze(-2) - grid.float()).pow(2)
    if scales is None:
        dist = sq_dist.sum(-1)
    elif scales.size(-1) == 1:
        # `Single`: one scale for both axes multiplies the summed distance
        dist = sq_dist.sum(-1) * scales.float().pow(2)
    elif scales.size(-1) == 2:
        # `Indep`: the squared x/y distances are weighted separately
        dist = (sq_dist * scales.float().pow(2).unsqueeze(-2)).sum(-1)
    elif scales.size(-1) == 3:
        # `Cov` (reference type4): the product of the squared x/y distances
        # is a third term with its own (squared) weight
        terms = torch.cat([sq_dist, sq_dist.prod(-1, keepdim=True)], dim=-1)
        dist = (terms * scales.float().pow(2).unsqueeze(-2)).sum(-1)
    else:
        raise ValueError('gaussian_log_prior: `scales` must end in 1 '
                         '(Single), 2 (Indep) or 3 (Cov) channels, got '
                         f'{tuple(scales.shape)}')
    log_g = -dist / beta
    log_g = log_g.clamp(min=torch.finfo(out_dtype).min / 2)
    # (bs, nq, nh, K) -> (bs, nh, nq, K) -> (bs * nh, nq, K)
    log_g = log_g.permute(0, 2, 1, 3).reshape(bs * num_heads, num_queries, -1)
    return log_g.to(out_dtype)

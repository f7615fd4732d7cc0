"""SMCA's Gaussian-like spatial prior G, returned as log G (an attention bias),
and the module that predicts it from the query (:class:`SMCAPriorPredictor`).

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
from typing import Optional, Tuple

import torch
from mmcv.cnn import Linear
from torch import Tensor, nn


def _axis_terms(coords: Tensor, size: int, weights: Optional[Tensor],
                beta: float, floor: float) -> Tuple[Tensor, Tensor]:
    """Per-axis pieces of ``log G`` over one axis of the key grid.

    Args:
        coords (Tensor): Centres along the axis, ``(bs, nh, nq)`` float32.
        size (int): Cells along the axis (``w`` or ``h``).
        weights (Tensor, optional): Squared scales of the axis,
            ``(bs, nh, nq)``; None means 1.
        beta (float): Smoothing constant.
        floor (float): Lower clamp of the weighted term.

    Returns:
        tuple[Tensor, Tensor]: ``-weights * d^2 / beta`` clamped at ``floor``
        and the plain ``d^2``, both ``(bs, nh, nq, size)``, where ``d`` is
        the distance of cell ``0..size-1`` to the centre.
    """
    cells = torch.arange(size, dtype=torch.float32, device=coords.device)
    sq = (coords.unsqueeze(-1) - cells).pow(2)
    term = sq if weights is None else sq * weights.unsqueeze(-1)
    return (term / -beta).clamp(min=floor), sq


def gaussian_log_prior(points: Tensor,
                       feat_hw: Tuple[int, int],
                       scales: Optional[Tensor] = None,
                       beta: float = 8.0,
                       dtype: Optional[torch.dtype] = None) -> Tensor:
    """``log G`` of every (query, head) over the key grid (attention bias).

    Keys are the cells of the (padded) ``h x w`` feature map in the order of
    ``feat.flatten(2)`` (mmdet's ``DETR.pre_transformer``): key
    ``k = y * w + x`` sits at ``(x, y)``, ``x in 0..w-1``, ``y in 0..h-1``.
    ``log G[b * nh + n, q, k] = -sum_a(scales[b, q, n, a]^2 *
    (points[b, q, n, a] - key_a)^2) / beta`` with ``a`` over ``(x, y)``.
    A scale with one channel (``Single`` mode) multiplies the summed squared
    distance; ``scales=None`` (``Fixed`` mode) means scale 1; three channels
    (``Cov`` mode, reference ``type4``) are ``(s_x, s_y, s_xy)`` and add
    ``s_xy^2 * dx^2 * dy^2`` to the ``Indep`` distance.

    The x and y terms depend on one axis each, so they are built on the
    ``w`` and ``h`` cells (``(bs, nh, nq, w)`` and ``(..., h)``) and summed
    by broadcasting: the only ``(bs, nh, nq, h * w)`` operation is that sum
    (``Cov`` adds one product), written in the layout the attention reads.

    The value is computed in float32 and kept above half of the smallest
    finite value of ``dtype`` (each axis term above a quarter) before the
    cast, so that fp16/bf16 never turns a far key into ``-inf`` (a query
    whose keys were all ``-inf`` would get NaN from softmax) and adding the
    content logits cannot overflow either. Key padding is *not* applied
    here: pass the result as ``attn_mask`` together with
    ``key_padding_mask``; torch adds ``-inf`` at padded keys, so they stay
    masked whatever the prior is (the reference code, too, adds log G after
    key-padding masking, before softmax).

    Args:
        points (Tensor): Per-head Gaussian centres in feature-map cells,
            ``(bs, num_queries, num_heads, 2)`` in ``(x, y)`` order.
        feat_hw (tuple[int, int]): Padded feature-map ``(h, w)`` in cells.
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
    if len(feat_hw) != 2 or min(feat_hw) < 1:
        raise ValueError('gaussian_log_prior: `feat_hw` must be the feature '
                         f'map (h, w), both >= 1, got {tuple(feat_hw)}')
    if scales is not None and scales.size(-1) not in (1, 2, 3):
        raise ValueError('gaussian_log_prior: `scales` must end in 1 '
                         '(Single), 2 (Indep) or 3 (Cov) channels, got '
                         f'{tuple(scales.shape)}')
    out_dtype = dtype if dtype is not None else points.dtype
    floor = torch.finfo(out_dtype).min / 4
    bs, num_queries, num_heads, _ = points.shape
    # no int(): traced (symbolic) sizes must stay symbolic for export
    height, width = feat_hw
    # (bs, nq, nh, c) -> (bs, nh, nq, c), contiguous: the small per-axis
    # tensors take the attention's layout (elementwise results follow their
    # inputs' strides), so the full-size sum needs no permute afterwards
    points = points.float().permute(0, 2, 1, 3).contiguous()
    weights = [None, None, None]
    if scales is not None:
        sq_scales = scales.float().permute(0, 2, 1, 3).contiguous().pow(2)
        if sq_scales.size(-1) == 1:  # `Single`: one scale for both axes
            weights[:2] = [sq_scales[..., 0]] * 2
        else:  # `Indep` / `Cov`: x and y weighted separately
            weights = list(sq_scales.unbind(-1)) + [None]
    term_x, sq_x = _axis_terms(points[..., 0], width, weights[0], beta, floor)
    term_y, sq_y = _axis_terms(points[..., 1], height, weights[1], beta,
                               floor)
    log_g = term_y.unsqueeze(-1) + term_x.unsqueeze(-2)  # (bs,nh,nq,h,w)
    if weights[2] is not None:
        # `Cov` (reference type4): the product of the squared x/y distances
        # is a third term with its own (squared) weight
        cross = (sq_x * (weights[2] / -beta).unsqueeze(-1)).unsqueeze(-2)
        log_g = (log_g + cross * sq_y.unsqueeze(-1)).clamp(min=2 * floor)
    return log_g.view(bs * num_heads, num_queries,
                      height * width).to(out_dtype)


# reference `--dynamic_scale` type1..type4, in that order
SCALE_MODES = ('Fixed', 'Single', 'Indep', 'Cov')
# scale channels per prior of each mode (see `gaussian_log_prior`)
_SCALE_CHANNELS = dict(Fixed=0, Single=1, Indep=2, Cov=3)


class SMCAPriorPredictor(nn.Module):
    """Predicts each query's per-head offsets and scales and returns log G.

    One instance serves a single-scale decoder layer
    (``decoder.layers.<i>.prior``) and one serves each level of a
    multi-scale layer (``decoder.layers.<i>.level_priors.<l>``). Modules
    (reference code names in brackets):

    * ``offset_fc`` (``point2``): ``Linear(dim, 2 * P)``, the offsets of
      the ``P`` priors (``num_heads``, or 1 if head-shared) in units of
      ``prior_unit`` cells, read as ``P x (x, y)``.
    * ``scale_fc`` (``point3``): ``Linear(dim, C * P)`` read as ``P x C``,
      ``C`` = 1 (``Single``), 2 (``Indep``, ``(s_x, s_y)``) or 3 (``Cov``,
      ``(s_x, s_y, s_xy)``); None in ``Fixed`` mode (scale 1). Weight 0 /
      bias 1 at init, so every scale starts at 1 (reference code).

    Args:
        embed_dims (int): Query width.
        num_heads (int): Attention heads.
        scale_mode (str): ``'Fixed'``, ``'Single'``, ``'Indep'`` (paper
            Table 2, default) or ``'Cov'`` (reference ``type4``).
        head_shared_prior (bool): One prior for all heads.
        beta (float): Smoothing constant of the prior (> 0).
        prior_unit (float): Cells per unit of offsets and distances (> 0):
            ``points = c + prior_unit * offset`` and ``log G`` is divided by
            ``beta * prior_unit^2``.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 scale_mode: str = 'Indep',
                 head_shared_prior: bool = False,
                 beta: float = 8.0,
                 prior_unit: float = 1.0) -> None:
        super().__init__()
        if scale_mode not in SCALE_MODES:
            raise ValueError('`decoder.layer_cfg.scale_mode` must be one of '
                             f'{SCALE_MODES}, got {scale_mode!r}')
        if not beta > 0:
            raise ValueError('`decoder.layer_cfg.beta` must be > 0, got '
                             f'{beta!r}')
        if not prior_unit > 0:
            raise ValueError('`decoder.layer_cfg.prior_unit` must be > 0, '
                             f'got {prior_unit!r}')
        self.num_heads = num_heads
        self.scale_mode = scale_mode
        self.head_shared_prior = head_shared_prior
        self.beta = float(beta)
        self.prior_unit = float(prior_unit)
        num_priors = 1 if head_shared_prior else num_heads
        self.offset_fc = Linear(embed_dims, 2 * num_priors)
        channels = _SCALE_CHANNELS[scale_mode]
        self.scale_fc = Linear(embed_dims, channels *
                               num_priors) if channels else None
        self.init_weights()

    def init_weights(self) -> None:
        """Scale predictor: weight 0, bias 1 (all scales start at 1)."""
        if self.scale_fc is not None:
            nn.init.zeros_(self.scale_fc.weight)
            nn.init.ones_(self.scale_fc.bias)

    def forward(self, prior_query: Tensor, centers: Tensor,
                feat_hw: Tuple[int, int]) -> Tensor:
        """``log G`` of every query and head on one key grid.

        Args:
            prior_query (Tensor): ``norm4(query + query_pos)``,
                ``(bs, nq, dim)``.
            centers (Tensor): Query centres in cells of this grid,
                ``(bs, nq, 2)``, ``(x, y)``.
            feat_hw (tuple[int, int]): Padded grid ``(h, w)``.

        Returns:
            Tensor: ``(bs * num_heads, nq, h * w)`` additive attention bias
            in the dtype of ``prior_query`` (:func:`gaussian_log_prior`).
        """
        bs, num_queries, _ = prior_query.shape
        offsets = self.offset_fc(prior_query).view(bs, num_queries, -1, 2)
        points = centers.unsqueeze(2) + self.prior_unit * offsets
        scales = None
        if self.scale_fc is not None:
            scales = self.scale_fc(prior_query).view(
                bs, num_queries, points.size(2), -1)
        if self.head_shared_prior:
            points = points.expand(-1, -1, self.num_heads, -1)
            if scales is not None:
                scales = scales.expand(-1, -1, self.num_heads, -1)
        return gaussian_log_prior(
            points,
            feat_hw,
            scales,
            beta=self.beta * self.prior_unit**2,
            dtype=prior_query.dtype)

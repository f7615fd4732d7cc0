"""Multi-scale SMCA decoder: per-level spatial priors + scale selection.

Paper (Gao et al., ICCV 2021, Sec. 3.3, "Fusing multi-scale features with
scale-selection attention"): every query's co-attention runs over each level
``l`` (E16, E32, E64) with that level's Gaussian-like prior ``G_l`` and a
per-query weight ``alpha_l``::

    alpha = softmax(FC(norm4(query + query_pos)))            over the levels
    C = sum_l alpha_l * softmax(Q K_l^T / sqrt(d) + log G_l) V_l

each level with its own softmax, then the usual output projection. As in the
single-scale model (and the authors' multi-scale archive), the centre is
predicted once (layer 0) and reused; for level ``l`` it is converted into
that level's cells with each image's unpadded size over the level's stride;
every layer and every level has its own per-head offsets and scales (any
scale mode, head-shared or not). ``alpha`` is computed per image and per
query (the authors' archive uses the first image's ``alpha`` for the whole
batch; this is not repeated here). One ``alpha`` per query and level is
shared by the heads, as in the paper's equation and the archive.

``scale_selection=False`` (Table 3 "w/o SSA", 42.6 mAP): the paper does not
define what replaces it; here the query attends with **one** softmax over the
keys of all levels, each key biased by its level's ``log G``, i.e.
``C = softmax(Q [K_16, K_32, K_64]^T / sqrt(d) + [log G_16, log G_32,
log G_64]) [V_16; V_32; V_64]``, so the levels compete through the attention
logits instead of a learnt weight.
"""
from typing import List, Optional, Sequence, Tuple

import torch
from mmcv.cnn import Linear, build_norm_layer
from mmcv.cnn.bricks.transformer import FFN
from mmengine.model import ModuleList
from torch import Tensor

from mmplugin_transfuse.utils import maybe_checkpoint
from .sdpa_attention import SDPAMultiheadAttention, additive_mask
from .smca_decoder import (SMCATransformerDecoder,
                           SMCATransformerDecoderLayer)


class SMCAMultiScaleDecoderLayer(SMCATransformerDecoderLayer):
    """Post-norm DETR decoder layer with multi-scale spatially modulated
    co-attention and scale-selection attention.

    Modules: ``self_attn`` and ``cross_attn`` (:class:`SDPAMultiheadAttention`,
    mmcv parameter names), ``ffn``, ``norms.0-2``, ``norm4`` (prior input),
    ``center_mlp`` (layer 0 only), ``level_priors.<l>``
    (:class:`SMCAPriorPredictor` per level: ``offset_fc``, ``scale_fc``)
    and ``scale_selection`` (``Linear(dim, num_levels)``, absent when
    ``scale_selection=False``).

    Args:
        num_levels (int): Feature levels. Defaults to 3.
        scale_selection (bool): Scale-selection attention (default) or one
            softmax over all levels' keys (Table 3 "w/o SSA"; see module
            docstring).
        level_prior_factors (Sequence[float], optional): Per level, a
            factor multiplying ``log G_l`` (the authors' archive: 0.5, 0.5,
            1, 2 for strides 8/16/32/64, sharper priors on coarser maps).
            Implemented as the level's ``beta / factor``. None (default):
            1 for every level, as in the paper.
        scale_mode, head_shared_prior, beta, predict_center: as
            :class:`SMCATransformerDecoderLayer` (``fused_attention`` must
            stay True).
        **kwargs: :class:`DetrTransformerDecoderLayer` arguments
            (``self_attn_cfg``/``cross_attn_cfg`` configure
            :class:`SDPAMultiheadAttention`).
    """

    def __init__(self,
                 *args,
                 num_levels: int = 3,
                 scale_selection: bool = True,
                 level_prior_factors: Optional[Sequence[float]] = None,
                 **kwargs) -> None:
        if not (isinstance(num_levels, int) and num_levels >= 1):
            raise ValueError('SMCAMultiScaleDecoderLayer: `num_levels` must '
                             f'be a positive int, got {num_levels!r}')
        if level_prior_factors is None:
            level_prior_factors = [1.0] * num_levels
        if len(level_prior_factors) != num_levels or not all(
                f > 0 for f in level_prior_factors):
            raise ValueError(
                'SMCAMultiScaleDecoderLayer: `level_prior_factors` must be '
                f'{num_levels} positive numbers (one per level), got '
                f'{level_prior_factors!r}')
        self.level_prior_factors = [float(f) for f in level_prior_factors]
        self.num_levels = num_levels
        self.use_scale_selection = bool(scale_selection)
        super().__init__(*args, **kwargs)
        if not self.fused_attention:
            # the per-level softmaxes are built on the SDPA pieces
            # (project_query / attend); there is no mmcv path to fall back to
            raise ValueError('SMCAMultiScaleDecoderLayer: the multi-scale '
                             'co-attention is always fused; remove '
                             '`decoder.layer_cfg.fused_attention=False`')

    def _init_layers(self) -> None:
        """SDPA attentions, FFN, norms and the per-level prior predictors."""
        self.self_attn = SDPAMultiheadAttention(**self.self_attn_cfg)
        self.cross_attn = SDPAMultiheadAttention(**self.cross_attn_cfg)
        self.embed_dims = self.self_attn.embed_dims
        self.ffn = FFN(**self.ffn_cfg)
        self.norms = ModuleList([
            build_norm_layer(self.norm_cfg, self.embed_dims)[1]
            for _ in range(3)
        ])
        self._init_prior_input()
        self.level_priors = ModuleList([
            self.build_prior(self.beta / factor)
            for factor in self.level_prior_factors
        ])
        self.scale_selection = Linear(
            self.embed_dims,
            self.num_levels) if self.use_scale_selection else None

    def init_prior_weights(self) -> None:
        """Every level's scale predictor: weight 0, bias 1."""
        for prior in self.level_priors:
            prior.init_weights()

    def level_weights(self, prior_query: Tensor) -> Tensor:
        """Scale-selection attention ``alpha``, ``(bs, nq, num_levels)``,
        softmax over the levels, per image and query."""
        if self.scale_selection is None:
            raise RuntimeError('SMCAMultiScaleDecoderLayer: built with '
                               '`scale_selection=False`, there is no alpha')
        return self.scale_selection(prior_query).softmax(dim=-1)

    def co_attention(self, query: Tensor, query_pos: Tensor, memory: Tensor,
                     memory_pos: Tensor, padding: Optional[Tensor],
                     log_priors: List[Tensor], alpha: Optional[Tensor],
                     level_start_index: Sequence[int]) -> Tensor:
        """Multi-scale spatially modulated co-attention (with shortcut).

        Args:
            query (Tensor): ``(bs, nq, dim)`` (after self-attention).
            query_pos (Tensor): ``(bs, nq, dim)``.
            memory (Tensor): Encoder memory, ``(bs, N, dim)``.
            memory_pos (Tensor): ``(bs, N, dim)``.
            padding (Tensor, optional): ``(bs, N)``, True = padded key.
            log_priors (list[Tensor]): Per level ``(bs * heads, nq, K_l)``.
            alpha (Tensor, optional): ``(bs, nq, L)``; None without scale
                selection.
            level_start_index (Sequence[int]): Level starts in ``N``.

        Returns:
            Tensor: ``query + dropout(C)``, ``(bs, nq, dim)``.
        """
        attn = self.cross_attn
        bs, nq, _ = query.shape
        q = attn.project_query(query + query_pos)
        # one projection of the whole memory, then split per level
        k, v = attn.project_key_value(memory + memory_pos, memory)
        bounds = list(level_start_index) + [memory.size(1)]
        if alpha is None:
            # w/o SSA: one softmax over all levels' keys, each biased by its
            # own level's log G
            log_prior = torch.cat(log_priors, dim=-1)
            mask = additive_mask(log_prior, padding, bs, attn.num_heads, nq,
                                 memory.size(1), q.dtype)
            out = attn.attend(q, k, v, mask)
        else:
            out = 0
            for lvl, log_prior in enumerate(log_priors):
                sl = slice(bounds[lvl], bounds[lvl + 1])
                mask = additive_mask(
                    log_prior, None if padding is None else padding[:, sl],
                    bs, attn.num_heads, nq, bounds[lvl + 1] - bounds[lvl],
                    q.dtype)
                out_l = attn.attend(q, k[:, :, sl], v[:, :, sl], mask)
                # alpha (bs, nq, L) -> (bs, 1, nq, 1): shared by the heads
                out = out + alpha[..., lvl].to(out_l.dtype)[:, None, :,
                                                           None] * out_l
        return query + attn.dropout_layer(attn.project_output(out))

    def forward(self, query: Tensor, query_pos: Tensor, memory: Tensor,
                memory_pos: Tensor, padding: Optional[Tensor],
                log_priors: List[Tensor], alpha: Optional[Tensor],
                level_start_index: Sequence[int],
                self_attn_mask: Optional[Tensor] = None) -> Tensor:
        """Self-attention -> norm -> co-attention -> norm -> FFN -> norm.

        Args: see :meth:`co_attention`; ``self_attn_mask`` as DETR's.

        Returns:
            Tensor: ``(bs, nq, dim)``.
        """
        query = self.self_attn(
            query=query,
            key=query,
            value=query,
            query_pos=query_pos,
            key_pos=query_pos,
            attn_mask=self_attn_mask)
        query = self.norms[0](query)
        query = self.co_attention(query, query_pos, memory, memory_pos,
                                  padding, log_priors, alpha,
                                  level_start_index)
        query = self.norms[1](query)
        query = self.ffn(query)
        return self.norms[2](query)


class SMCAMultiScaleDecoder(SMCATransformerDecoder):
    """Decoder of multi-scale SMCA (:class:`SMCAMultiScaleDecoderLayer`).

    Args:
        num_layers (int): Decoder layers.
        layer_cfg (dict): :class:`SMCAMultiScaleDecoderLayer` config (the
            first layer also gets ``predict_center=True``).
        with_cp (bool): Gradient checkpointing while training.
        **kwargs: :class:`SMCATransformerDecoder` arguments.
    """

    layer_type = SMCAMultiScaleDecoderLayer

    def _init_layers(self) -> None:
        super()._init_layers()
        self.num_levels = self.layers[0].num_levels

    def forward(self,
                query: Tensor,
                key: Tensor,
                query_pos: Tensor,
                key_pos: Tensor,
                key_padding_mask: Optional[Tensor],
                valid_wh: Tensor,
                spatial_shapes: Sequence[Tuple[int, int]],
                level_start_index: Sequence[int],
                **kwargs) -> Tuple[Tensor, ...]:
        """Forward with multi-scale spatially modulated co-attention.

        Args:
            query (Tensor): ``(bs, nq, dim)``, zeros in DETR.
            key (Tensor): Encoder memory, ``(bs, N, dim)``, levels
                concatenated.
            query_pos (Tensor): Query embeddings, ``(bs, nq, dim)``.
            key_pos (Tensor): ``(bs, N, dim)``.
            key_padding_mask (Tensor, optional): ``(bs, N)``, True = padding.
            valid_wh (Tensor): Each image's unpadded ``(w, h)`` in each
                level's cells, ``(bs, num_levels, 2)``.
            spatial_shapes (Sequence[tuple[int, int]]): Padded ``(h_l, w_l)``
                per level.
            level_start_index (Sequence[int]): Level starts in ``N``.
            **kwargs: Ignored (``value``: the memory itself is projected to
                the values).

        Returns:
            tuple: ``hidden_states`` ``(num_layers, bs, nq, dim)`` (or
            ``(1, ...)``) and ``center_logits`` ``(bs, nq, 2)``. Each
            layer receives its per-level ``log G`` and ``alpha`` as
            arguments, so a forward hook on a layer reads them.
        """
        if len(spatial_shapes) != self.num_levels or valid_wh.shape[1:] != \
                (self.num_levels, 2):
            raise ValueError(
                f'SMCAMultiScaleDecoder: built for {self.num_levels} levels, '
                f'got spatial_shapes={list(spatial_shapes)} and valid_wh of '
                f'shape {tuple(valid_wh.shape)}')
        center_logits = None
        centers = []
        intermediate = []
        for layer_id, layer in enumerate(self.layers):
            prior_query = layer.prior_input(query, query_pos)
            if layer_id == 0:
                center_logits = layer.predict_centers(prior_query)
                norm_centers = center_logits.sigmoid()
                # (bs, nq, 2) in each level's cells
                centers = [
                    norm_centers * valid_wh[:, lvl].to(
                        norm_centers.dtype).unsqueeze(1)
                    for lvl in range(self.num_levels)
                ]
            log_priors = [
                prior(prior_query, centers[lvl], spatial_shapes[lvl])
                for lvl, prior in enumerate(layer.level_priors)
            ]
            alpha = layer.level_weights(prior_query) \
                if layer.use_scale_selection else None
            query = maybe_checkpoint(self, layer, query, query_pos, key,
                                     key_pos, key_padding_mask, log_priors,
                                     alpha, level_start_index)
            if self.return_intermediate:
                intermediate.append(self.post_norm(query))
        if self.return_intermediate:
            hidden_states = torch.stack(intermediate)
        else:
            hidden_states = self.post_norm(query).unsqueeze(0)
        return hidden_states, center_logits

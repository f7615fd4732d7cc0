"""Multi-scale SMCA encoder: intra-scale and multi-scale self-attention.

Paper (Gao et al., ICCV 2021, Sec. 3.3 "Multi-scale feature encoding" and
Table 3): the encoder sees the flattened tokens of E16, E32 and E64 and
stacks two kinds of transformer blocks (self-attention + FFN, post-norm as
DETR):

* ``'intra'`` - intra-scale self-attention: the block runs on each level's
  tokens separately (a token attends to its own level only); the block's
  weights are shared by the levels, so one intra layer has one parameter set
  however many levels there are. Table 3 also ablates sharing only the FFN,
  only the self-attention, or nothing (``intra_share``).
* ``'multi'`` - multi-scale self-attention: one block over the concatenated
  tokens of all levels (key padding per level).

The paper's best layout, "2Intra-Multi-2Intra", is the default ``layout``.
All attention goes through :class:`SDPAMultiheadAttention` (~5.5k tokens at
800x1333; the attention matrix is never materialised).
"""
from typing import List, Optional, Sequence

import torch
from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks.transformer import FFN
from mmdet.utils import ConfigType
from mmengine.model import BaseModule, ModuleList
from torch import Tensor

from mmplugin_transfuse.utils import maybe_checkpoint
from .sdpa_attention import SDPAMultiheadAttention
from .smca_encoder import SMCATransformerEncoderLayer

LAYER_TYPES = ('intra', 'multi')
INTRA_SHARE_MODES = ('all', 'ffn', 'sa', 'none')


class SMCAMultiScaleLayer(SMCATransformerEncoderLayer):
    """Multi-scale self-attention block: DETR's post-norm encoder layer over
    the tokens of all levels, with SDPA attention (``fused_attention``;
    ~5.5k tokens at 800x1333, whose attention matrix is never built).

    Parameter names are :class:`DetrTransformerEncoderLayer`'s
    (``self_attn.attn.*``, ``ffn.*``, ``norms.0/1``).
    """

    def forward(self, query: Tensor, query_pos: Tensor,
                key_padding_mask: Optional[Tensor],
                level_start_index: Sequence[int]) -> Tensor:
        """``(bs, N, dim)`` tokens of all levels -> same shape."""
        return super().forward(query, query_pos, key_padding_mask)


class SMCAIntraScaleLayer(BaseModule):
    """Intra-scale self-attention block: one post-norm block per level.

    With ``share='all'`` the levels run through the same block; ``'ffn'``
    shares the FFN (and the norm after it) and gives each level its own
    self-attention (and norm); ``'sa'`` the reverse; ``'none'`` gives every
    level its own block. A norm follows the sharing of the sub-layer it
    normalises.

    Args:
        self_attn_cfg (dict): :class:`SDPAMultiheadAttention` config.
        ffn_cfg (dict): mmcv ``FFN`` config.
        norm_cfg (dict): Norm config. Defaults to LayerNorm.
        num_levels (int): Number of feature levels.
        share (str): ``'all'`` | ``'ffn'`` | ``'sa'`` | ``'none'``.
    """

    def __init__(self,
                 self_attn_cfg: ConfigType,
                 ffn_cfg: ConfigType,
                 num_levels: int,
                 share: str = 'all',
                 norm_cfg: ConfigType = dict(type='LN'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if share not in INTRA_SHARE_MODES:
            raise ValueError('SMCAIntraScaleLayer: `intra_share` must be one '
                             f'of {INTRA_SHARE_MODES}, got {share!r}')
        self.share = share
        self.num_levels = num_levels
        num_sa = 1 if share in ('all', 'sa') else num_levels
        num_ffn = 1 if share in ('all', 'ffn') else num_levels
        self.self_attns = ModuleList(
            [SDPAMultiheadAttention(**self_attn_cfg) for _ in range(num_sa)])
        self.embed_dims = self.self_attns[0].embed_dims
        self.sa_norms = ModuleList([
            build_norm_layer(norm_cfg, self.embed_dims)[1]
            for _ in range(num_sa)
        ])
        self.ffns = ModuleList([FFN(**ffn_cfg) for _ in range(num_ffn)])
        self.ffn_norms = ModuleList([
            build_norm_layer(norm_cfg, self.embed_dims)[1]
            for _ in range(num_ffn)
        ])

    def forward(self, query: Tensor, query_pos: Tensor,
                key_padding_mask: Optional[Tensor],
                level_start_index: Sequence[int]) -> Tensor:
        """Run each level's tokens through its (shared) block.

        Args:
            query (Tensor): Tokens of all levels, ``(bs, N, dim)``, level by
                level (``N = sum_l h_l * w_l``).
            query_pos (Tensor): Positional + level embeddings, same shape.
            key_padding_mask (Tensor, optional): ``(bs, N)``, True = padding.
            level_start_index (Sequence[int]): Start of each level in ``N``.

        Returns:
            Tensor: ``(bs, N, dim)``.
        """
        bounds = list(level_start_index) + [query.size(1)]
        if len(bounds) - 1 != self.num_levels:
            raise ValueError(
                f'SMCAIntraScaleLayer: built for {self.num_levels} levels, '
                f'got {len(bounds) - 1}')
        outs = []
        for lvl in range(self.num_levels):
            sl = slice(bounds[lvl], bounds[lvl + 1])
            sa_id = 0 if len(self.self_attns) == 1 else lvl
            ffn_id = 0 if len(self.ffns) == 1 else lvl
            x = query[:, sl]
            pos = query_pos[:, sl]
            mask = None if key_padding_mask is None else \
                key_padding_mask[:, sl]
            x = self.self_attns[sa_id](
                query=x,
                key=x,
                value=x,
                query_pos=pos,
                key_pos=pos,
                key_padding_mask=mask)
            x = self.sa_norms[sa_id](x)
            x = self.ffn_norms[ffn_id](self.ffns[ffn_id](x))
            outs.append(x)
        return torch.cat(outs, dim=1)


class SMCAMultiScaleEncoder(BaseModule):
    """Stack of intra-/multi-scale blocks in a configurable order.

    Args:
        layout (Sequence[str]): One entry per layer, ``'intra'`` or
            ``'multi'``. Defaults to the paper's best, "2Intra-Multi-2Intra"
            (Table 3, 43.7 mAP): ``('intra', 'intra', 'multi', 'intra',
            'intra')``.
        layer_cfg (dict): ``self_attn_cfg`` (:class:`SDPAMultiheadAttention`),
            ``ffn_cfg`` (mmcv ``FFN``) and optional ``norm_cfg``, used by
            every layer. The paper's parameter count (39.5M) implies FFN 1024.
        num_levels (int): Number of feature levels. Defaults to 3 (E16, E32,
            E64).
        intra_share (str): Weight sharing of each intra layer across levels
            (Table 3): ``'all'`` (default, 43.7), ``'ffn'`` (43.0), ``'sa'``
            (42.8), ``'none'`` (42.3).
        with_cp (bool): Gradient checkpointing of every layer while
            training. Defaults to False.
    """

    def __init__(self,
                 layer_cfg: ConfigType,
                 layout: Sequence[str] = ('intra', 'intra', 'multi', 'intra',
                                          'intra'),
                 num_levels: int = 3,
                 intra_share: str = 'all',
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if isinstance(layout, str) or not layout or any(
                t not in LAYER_TYPES for t in layout):
            raise ValueError(
                'SMCAMultiScaleEncoder: `encoder.layout` must be a non-empty '
                f'list of {LAYER_TYPES}, got {layout!r}')
        if not isinstance(with_cp, bool):
            raise TypeError('SMCAMultiScaleEncoder: `encoder.with_cp` must be '
                            f'a bool, got {with_cp!r}')
        self.layout = list(layout)
        self.num_layers = len(self.layout)
        self.num_levels = num_levels
        self.intra_share = intra_share
        self.with_cp = with_cp
        layers: List[BaseModule] = []
        for kind in self.layout:
            cfg = dict(layer_cfg)
            if kind == 'multi':
                layers.append(SMCAMultiScaleLayer(**cfg))
            else:
                layers.append(
                    SMCAIntraScaleLayer(
                        num_levels=num_levels, share=intra_share, **cfg))
        self.layers = ModuleList(layers)
        self.embed_dims = self.layers[0].embed_dims

    def forward(self,
                query: Tensor,
                query_pos: Tensor,
                key_padding_mask: Optional[Tensor],
                level_start_index: Sequence[int],
                spatial_shapes: Optional[Sequence] = None) -> Tensor:
        """Encode the tokens of all levels.

        Args:
            query (Tensor): ``(bs, N, dim)``, levels concatenated.
            query_pos (Tensor): ``(bs, N, dim)``, sine + level embedding.
            key_padding_mask (Tensor, optional): ``(bs, N)``, True = padding.
            level_start_index (Sequence[int]): Start of each level in ``N``.
            spatial_shapes (Sequence, optional): Unused (attention works on
                tokens); accepted for the interface of the dwconv encoder.

        Returns:
            Tensor: Encoder memory, ``(bs, N, dim)``.
        """
        for layer in self.layers:
            query = maybe_checkpoint(self, layer, query, query_pos,
                                     key_padding_mask, level_start_index)
        return query

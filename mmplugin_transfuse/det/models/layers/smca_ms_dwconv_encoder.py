"""The authors' later multi-scale SMCA encoder: depthwise convolutions.

The reference repository's archive ``Multi_scale_SMCA.zip`` (gaopengcuhk/
SMCA-DETR; its logs: 44.4 AP at 50 epochs with R50, 40.76M params) replaces
the paper's attention encoder by depthwise convolutions over four levels
(E8, E16, E32, E64). One layer, as read from the archive's
``TransformerEncoderLayer`` (``transformer_44_dot_4.py``, the 44.4 AP run)
and re-written here:

1. per level ``y_l = dwconv_l(proj_in(x_l + pos_l))`` - a shared 1x1 conv,
   then the level's own depthwise ``k x k`` conv (k = 7);
2. bidirectional fusion with the neighbouring levels, the two cross-level
   depthwise convs shared by all level pairs: ``f_l = y_l +
   resize(up(y_{l+1})) + down(y_{l-1})`` (``down``: stride-2 depthwise conv,
   ``up``: depthwise conv then bilinear resize to the finer map);
3. ``x_l = norm1(x_l + dropout(proj_out(f_l)))`` (shared 1x1 conv and norm);
4. ``x_l = norm2(FFN(x_l))`` (shared FFN with its residual).

Choices (stated, not copied): the bilinear resize uses ``align_corners=True``
as the archive's ``F.upsample_bilinear``; a stride-2 map whose size differs
from the coarser level's (never for ResNet maps, whose stride-2 convs also
round up) is resized to it rather than failing; like the archive, the
convolutions ignore the padding mask (padded cells are part of the maps).
``share_cross_level=False`` gives each level pair its own cross-level convs
(the archive's earlier ``transformer.py``, kernel 5).
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks.transformer import FFN
from mmdet.utils import ConfigType
from mmengine.model import BaseModule, ModuleList
from torch import Tensor, nn

from mmplugin_transfuse.utils import maybe_checkpoint


def depthwise_conv(dims: int, kernel_size: int, stride: int = 1) -> nn.Conv2d:
    """``dims``-channel depthwise conv with 'same'-style padding."""
    return nn.Conv2d(
        dims,
        dims,
        kernel_size,
        stride=stride,
        padding=kernel_size // 2,
        groups=dims)


class SMCADWConvEncoderLayer(BaseModule):
    """One depthwise-conv encoder layer over all levels (module docstring).

    Args:
        embed_dims (int): Channels. Defaults to 256.
        num_levels (int): Levels, finest first. Defaults to 4.
        kernel_size (int): Odd depthwise kernel size. Defaults to 7.
        share_cross_level (bool): One ``down``/``up`` conv for all level
            pairs (default, the 44.4 AP run) or one per pair.
        dropout (float): Dropout on the fused features. Defaults to 0.1.
        ffn_cfg (dict): mmcv ``FFN`` config (``feedforward_channels`` 1024
            in the archive's runs).
        norm_cfg (dict): Norm config. Defaults to LayerNorm.
    """

    def __init__(self,
                 ffn_cfg: ConfigType,
                 embed_dims: int = 256,
                 num_levels: int = 4,
                 kernel_size: int = 7,
                 share_cross_level: bool = True,
                 dropout: float = 0.1,
                 norm_cfg: ConfigType = dict(type='LN'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if kernel_size % 2 != 1:
            raise ValueError('SMCADWConvEncoderLayer: `kernel_size` must be '
                             f'odd, got {kernel_size}')
        if num_levels < 2:
            raise ValueError('SMCADWConvEncoderLayer: `num_levels` must be '
                             f'>= 2 for cross-level fusion, got {num_levels}')
        self.embed_dims = embed_dims
        self.num_levels = num_levels
        self.proj_in = nn.Conv2d(embed_dims, embed_dims, 1)
        self.level_convs = ModuleList([
            depthwise_conv(embed_dims, kernel_size) for _ in range(num_levels)
        ])
        num_pairs = 1 if share_cross_level else num_levels - 1
        self.down_convs = ModuleList([
            depthwise_conv(embed_dims, kernel_size, stride=2)
            for _ in range(num_pairs)
        ])
        self.up_convs = ModuleList([
            depthwise_conv(embed_dims, kernel_size) for _ in range(num_pairs)
        ])
        self.proj_out = nn.Conv2d(embed_dims, embed_dims, 1)
        self.dropout = nn.Dropout(dropout)
        self.ffn = FFN(**ffn_cfg)
        self.norms = ModuleList([
            build_norm_layer(norm_cfg, embed_dims)[1] for _ in range(2)
        ])

    def forward(self, maps: List[Tensor], pos: List[Tensor]) -> List[Tensor]:
        """Args: per level ``(bs, dim, h_l, w_l)`` features and positional
        (+ level) embeddings. Returns: the new maps, same shapes."""
        ys = [
            conv(self.proj_in(x + p))
            for conv, x, p in zip(self.level_convs, maps, pos)
        ]
        outs = []
        for lvl, (x, y) in enumerate(zip(maps, ys)):
            fused = y
            size = y.shape[-2:]
            if lvl + 1 < self.num_levels:  # from the coarser level, up
                up = self.up_convs[0 if len(self.up_convs) == 1 else lvl]
                fused = fused + F.interpolate(
                    up(ys[lvl + 1]),
                    size=size,
                    mode='bilinear',
                    align_corners=True)
            if lvl > 0:  # from the finer level, down
                down = self.down_convs[0 if len(self.down_convs) == 1 else
                                       lvl - 1]
                d = down(ys[lvl - 1])
                if d.shape[-2:] != size:
                    d = F.interpolate(
                        d, size=size, mode='bilinear', align_corners=True)
                fused = fused + d
            x = x + self.dropout(self.proj_out(fused))
            bs, c, h, w = x.shape
            t = self.norms[0](x.flatten(2).transpose(1, 2))
            t = self.norms[1](self.ffn(t))
            outs.append(t.transpose(1, 2).reshape(bs, c, h, w))
        return outs


class SMCADWConvEncoder(BaseModule):
    """Stack of :class:`SMCADWConvEncoderLayer` with the token interface of
    :class:`SMCAMultiScaleEncoder` (concatenated levels in, same out).

    Args:
        num_layers (int): Layers (6 in the archive's runs).
        layer_cfg (dict): :class:`SMCADWConvEncoderLayer` arguments.
        with_cp (bool): Gradient checkpointing while training.
    """

    def __init__(self,
                 num_layers: int,
                 layer_cfg: ConfigType,
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        self.layers = ModuleList(
            [SMCADWConvEncoderLayer(**layer_cfg) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.embed_dims = self.layers[0].embed_dims
        self.num_levels = self.layers[0].num_levels
        self.with_cp = with_cp

    def forward(self,
                query: Tensor,
                query_pos: Tensor,
                key_padding_mask: Optional[Tensor],
                level_start_index: Sequence[int],
                spatial_shapes: Sequence[Tuple[int, int]] = None) -> Tensor:
        """Encode the tokens of all levels.

        Args:
            query (Tensor): ``(bs, N, dim)``, levels concatenated.
            query_pos (Tensor): ``(bs, N, dim)``.
            key_padding_mask (Tensor, optional): Unused (see module doc).
            level_start_index (Sequence[int]): Level starts in ``N``.
            spatial_shapes (Sequence[tuple[int, int]]): ``(h_l, w_l)``.

        Returns:
            Tensor: ``(bs, N, dim)``.
        """
        if spatial_shapes is None or len(spatial_shapes) != self.num_levels:
            raise ValueError(
                f'SMCADWConvEncoder: needs the {self.num_levels} levels\' '
                f'`spatial_shapes`, got {spatial_shapes!r}')
        bs, _, dim = query.shape

        def to_maps(tokens: Tensor) -> List[Tensor]:
            return [
                tokens[:, s:s + h * w].transpose(1, 2).reshape(bs, dim, h, w)
                for s, (h, w) in zip(level_start_index, spatial_shapes)
            ]

        maps, pos = to_maps(query), to_maps(query_pos)
        for layer in self.layers:
            maps = maybe_checkpoint(self, layer, maps, pos)
        return torch.cat([m.flatten(2).transpose(1, 2) for m in maps], dim=1)

"""BiFusion neck of TransFuse: fuse CNN and transformer maps per scale."""
from typing import Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor

from mmseg.models.utils import SELayer
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType
from ..utils import PreActResidual, SpatialAttention


class BiFusionBlock(BaseModule):
    """One BiFusion module (paper eq. (1)-(3); reference ``BiFusion_block``).

    * ``t_hat = ChannelAttn(t)``: squeeze-excitation with reduction ``r``
      (mmseg :class:`SELayer`, ReLU then sigmoid, biased 1x1 convs).
    * ``g_hat = SpatialAttn(g)``: :class:`SpatialAttention` (CBAM).
    * ``b_hat = Conv3x3(W1 t * W2 g)``: 1x1 conv + BN on each input, their
      Hadamard product, then 3x3 conv + BN + ReLU.
    * ``f = Dropout2d(Residual([g_hat, t_hat, b_hat]))``, concatenated in that
      order as the reference.

    The switches reproduce Table 6: with all three off the block is the
    "Concat + Res" baseline ``Residual([g, t])``; ``with_product=False``
    removes ``b_hat`` (and its channels) from the concatenation.

    Args:
        cnn_channels (int): Channels of ``g``.
        trans_channels (int): Channels of ``t``.
        out_channels (int): Channels of ``f`` (also the width of ``b_hat``,
            as the reference's ``ch_int``).
        reduction (int): SE reduction ratio ``r``.
        drop_rate (float): Dropout2d probability.
        with_spatial_attn / with_channel_attn / with_product (bool): The
            three BiFusion components.

    Shape:
        ``g (B, C_g, H, W)``, ``t (B, C_t, H, W)`` -> ``(B, C_out, H, W)``.
    """

    def __init__(self,
                 cnn_channels: int,
                 trans_channels: int,
                 out_channels: int,
                 reduction: int = 1,
                 drop_rate: float = 0.1,
                 with_spatial_attn: bool = True,
                 with_channel_attn: bool = True,
                 with_product: bool = True,
                 norm_cfg: ConfigType = dict(type='BN'),
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg)
        self.channel_attn = SELayer(
            trans_channels,
            ratio=reduction,
            act_cfg=(dict(type='ReLU'),
                     dict(type='Sigmoid'))) if with_channel_attn else None
        self.spatial_attn = SpatialAttention(
            norm_cfg=norm_cfg) if with_spatial_attn else None
        if with_product:
            self.cnn_proj = ConvModule(
                cnn_channels,
                out_channels,
                1,
                bias=True,
                norm_cfg=norm_cfg,
                act_cfg=None)
            self.trans_proj = ConvModule(
                trans_channels,
                out_channels,
                1,
                bias=True,
                norm_cfg=norm_cfg,
                act_cfg=None)
            self.product_conv = ConvModule(
                out_channels,
                out_channels,
                3,
                padding=1,
                bias=True,
                norm_cfg=norm_cfg)
        self.with_product = with_product
        in_channels = cnn_channels + trans_channels + (
            out_channels if with_product else 0)
        self.residual = PreActResidual(
            in_channels, out_channels, norm_cfg=norm_cfg)
        self.dropout = nn.Dropout2d(drop_rate)

    def forward(self, g: Tensor, t: Tensor) -> Tensor:
        parts = [
            self.spatial_attn(g) if self.spatial_attn is not None else g,
            self.channel_attn(t) if self.channel_attn is not None else t
        ]
        if self.with_product:
            parts.append(
                self.product_conv(self.cnn_proj(g) * self.trans_proj(t)))
        return self.dropout(self.residual(torch.cat(parts, dim=1)))


@MODELS.register_module()
class BiFusionNeck(BaseModule):
    """One :class:`BiFusionBlock` per scale (1/16, 1/8, 1/4).

    Takes :class:`TransFuseBackbone`'s parallel output
    ``(g_16, g_8, g_4, t_16, t_8, t_4)`` and returns
    ``(f_16, f_8, f_4, t_4)``: the fused maps for the attention-gated decoder
    and the transformer's 1/4 map, passed through for its deep-supervision
    head (paper Sec. 2.3).

    Args:
        cnn_channels (tuple[int]): ``g`` channels at 1/16, 1/8, 1/4
            (256, 128, 64 for R34).
        trans_channels (tuple[int]): ``t`` channels at 1/16, 1/8, 1/4
            (384, 128, 64 for -S).
        out_channels (tuple[int]): ``f`` channels (256, 128, 64 for -S).
        reductions (tuple[int]): SE ratios ``r`` per scale (4, 2, 1).
        drop_rate (float): Dropout2d inside each block (0.1: half of the
            backbone's 0.2, as the reference).
        with_spatial_attn / with_channel_attn / with_product (bool):
            BiFusion components, for the Table 6 ablations.
        init_cfg (dict, optional): The reference's init of its ``up_c*``
            blocks (``KaimingFanIn``); None keeps mmcv's ConvModule init.
    """

    def __init__(self,
                 cnn_channels: Sequence[int] = (256, 128, 64),
                 trans_channels: Sequence[int] = (384, 128, 64),
                 out_channels: Sequence[int] = (256, 128, 64),
                 reductions: Sequence[int] = (4, 2, 1),
                 drop_rate: float = 0.1,
                 with_spatial_attn: bool = True,
                 with_channel_attn: bool = True,
                 with_product: bool = True,
                 norm_cfg: ConfigType = dict(type='BN'),
                 init_cfg: OptConfigType = dict(type='KaimingFanIn')
                 ) -> None:
        super().__init__(init_cfg)
        lengths = {
            len(cnn_channels),
            len(trans_channels),
            len(out_channels),
            len(reductions)
        }
        if len(lengths) != 1:
            raise ValueError(
                'BiFusionNeck: cnn_channels, trans_channels, out_channels and '
                'reductions must have one entry per scale, got lengths '
                f'{len(cnn_channels)}, {len(trans_channels)}, '
                f'{len(out_channels)}, {len(reductions)}')
        self.num_scales = len(out_channels)
        self.fusions = nn.ModuleList([
            BiFusionBlock(
                cnn_channels[i],
                trans_channels[i],
                out_channels[i],
                reduction=reductions[i],
                drop_rate=drop_rate,
                with_spatial_attn=with_spatial_attn,
                with_channel_attn=with_channel_attn,
                with_product=with_product,
                norm_cfg=norm_cfg) for i in range(self.num_scales)
        ])

    def forward(self, inputs: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        n = self.num_scales
        if len(inputs) != 2 * n:
            raise ValueError(
                f'BiFusionNeck expects {2 * n} maps (CNN then transformer, '
                f"coarse to fine) from a 'parallel' TransFuseBackbone, got "
                f'{len(inputs)}')
        cnn, trans = inputs[:n], inputs[n:]
        fused = tuple(
            fusion(g, t) for fusion, g, t in zip(self.fusions, cnn, trans))
        return fused + (trans[-1], )

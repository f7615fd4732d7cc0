"""Upsampling stage of TransFuse (``Up`` in the reference code)."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor

from mmseg.utils import ConfigType, OptConfigType


class ResidualDoubleConv(BaseModule):
    """``ReLU(BN(conv3x3(ReLU(BN(conv3x3(x))))) + BN(conv1x1(x)))``.

    The reference ``DoubleConv`` (convs with bias, then BN).

    Shape:
        ``(B, C_in, H, W) -> (B, C_out, H, W)``.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 norm_cfg: ConfigType = dict(type='BN'),
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg)
        self.conv1 = ConvModule(
            in_channels,
            out_channels,
            3,
            padding=1,
            bias=True,
            norm_cfg=norm_cfg)
        self.conv2 = ConvModule(
            out_channels,
            out_channels,
            3,
            padding=1,
            bias=True,
            norm_cfg=norm_cfg,
            act_cfg=None)
        self.identity = ConvModule(
            in_channels,
            out_channels,
            1,
            bias=True,
            norm_cfg=norm_cfg,
            act_cfg=None)
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        return self.relu(self.conv2(self.conv1(x)) + self.identity(x))


class AttentionGate(BaseModule):
    """Additive attention gate (Attention U-Net, Oktay et al. 2018).

    ``skip * sigmoid(BN(conv1x1(ReLU(BN(W_g gate) + BN(W_x skip)))))`` with
    a single-channel gate, as the reference ``Attention_block``.

    Args:
        gate_channels (int): Channels of the gating (upsampled coarse) map.
        skip_channels (int): Channels of the gated (skip) map.
        inter_channels (int): Channels of the two projections.

    Shape:
        gate ``(B, C_g, H, W)``, skip ``(B, C_x, H, W)`` -> ``(B, C_x, H, W)``.
    """

    def __init__(self,
                 gate_channels: int,
                 skip_channels: int,
                 inter_channels: int,
                 norm_cfg: ConfigType = dict(type='BN'),
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg)
        self.gate_proj = ConvModule(
            gate_channels,
            inter_channels,
            1,
            bias=True,
            norm_cfg=norm_cfg,
            act_cfg=None)
        self.skip_proj = ConvModule(
            skip_channels,
            inter_channels,
            1,
            bias=True,
            norm_cfg=norm_cfg,
            act_cfg=None)
        self.psi = ConvModule(
            inter_channels, 1, 1, bias=True, norm_cfg=norm_cfg, act_cfg=None)
        self.relu = nn.ReLU()

    def forward(self, gate: Tensor, skip: Tensor) -> Tensor:
        psi = self.relu(self.gate_proj(gate) + self.skip_proj(skip))
        return skip * torch.sigmoid(self.psi(psi))


class TransFuseUp(BaseModule):
    """Bilinear x2 upsampling, optional gated skip, residual double conv.

    Without a skip (the transformer branch's ``up1``/``up2``) this is
    ``ResidualDoubleConv(Up(x))``. With a skip (the decoder, paper eq. (4)):
    the upsampled coarse map is zero-padded to the skip's size (odd sizes),
    gates the skip through :class:`AttentionGate` when ``with_attn``, and
    ``[gated skip, upsampled]`` (that order, as the reference) goes through
    :class:`ResidualDoubleConv`. Upsampling uses ``align_corners=True`` as the
    reference's ``nn.Upsample``.

    Args:
        in_channels (int): Channels of the coarse input ``x``.
        out_channels (int): Output channels (also the gate's width).
        skip_channels (int): Channels of the skip map, 0 for none.
        with_attn (bool): Gate the skip with an attention gate.
        init_cfg (dict, optional): The reference's init (``KaimingFanIn``,
            see :class:`KaimingFanInInit`); None keeps mmcv's ConvModule
            init (Kaiming fan-out, zero bias).

    Shape:
        ``x (B, C_in, H, W)``, ``skip (B, C_skip, 2H, 2W)`` ->
        ``(B, C_out, 2H, 2W)``.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 skip_channels: int = 0,
                 with_attn: bool = False,
                 norm_cfg: ConfigType = dict(type='BN'),
                 init_cfg: OptConfigType = dict(type='KaimingFanIn')
                 ) -> None:
        super().__init__(init_cfg)
        self.conv = ResidualDoubleConv(
            in_channels + skip_channels, out_channels, norm_cfg=norm_cfg)
        self.attn_gate = AttentionGate(
            in_channels, skip_channels, out_channels,
            norm_cfg=norm_cfg) if with_attn and skip_channels else None

    def forward(self, x: Tensor, skip: Optional[Tensor] = None) -> Tensor:
        x = F.interpolate(
            x, scale_factor=2, mode='bilinear', align_corners=True)
        if skip is not None:
            dy = skip.shape[2] - x.shape[2]
            dx = skip.shape[3] - x.shape[3]
            if dy or dx:
                x = F.pad(x, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
            if self.attn_gate is not None:
                skip = self.attn_gate(x, skip)
            x = torch.cat([skip, x], dim=1)
        return self.conv(x)

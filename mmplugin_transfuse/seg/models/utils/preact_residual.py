"""Pre-activation bottleneck residual block of TransFuse's BiFusion module."""
import torch.nn as nn
from mmcv.cnn import ConvModule, build_norm_layer
from mmengine.model import BaseModule
from torch import Tensor

from mmseg.utils import ConfigType, OptConfigType


class PreActResidual(BaseModule):
    """Pre-activation bottleneck residual block (reference ``Residual``).

    ``BN -> ReLU -> 1x1 conv (C_out/2) -> BN -> ReLU -> 3x3 conv -> BN -> ReLU
    -> 1x1 conv (C_out)`` plus a 1x1 conv skip when ``C_in != C_out``. Convs
    carry a bias and no norm of their own (the norm precedes them), exactly
    as Rayicer/TransFuse ``Residual``. The reference always builds
    ``skip_layer``, even when it is unused (``C_in == C_out``); here it is
    only built when used, so DDP sees no unused parameters.

    Args:
        in_channels (int): C_in.
        out_channels (int): C_out (must be even: the bottleneck is C_out/2).
        norm_cfg (dict): Norm of the pre-activations. Default: BN.

    Shape:
        ``(B, C_in, H, W) -> (B, C_out, H, W)``.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 norm_cfg: ConfigType = dict(type='BN'),
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg)
        mid_channels = out_channels // 2
        self.bn1 = build_norm_layer(norm_cfg, in_channels)[1]
        self.conv1 = ConvModule(
            in_channels, mid_channels, 1, bias=True, act_cfg=None)
        self.bn2 = build_norm_layer(norm_cfg, mid_channels)[1]
        self.conv2 = ConvModule(
            mid_channels, mid_channels, 3, padding=1, bias=True, act_cfg=None)
        self.bn3 = build_norm_layer(norm_cfg, mid_channels)[1]
        self.conv3 = ConvModule(
            mid_channels, out_channels, 1, bias=True, act_cfg=None)
        self.skip_layer = ConvModule(
            in_channels, out_channels, 1, bias=True,
            act_cfg=None) if in_channels != out_channels else None
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.skip_layer is None else self.skip_layer(x)
        out = self.conv1(self.relu(self.bn1(x)))
        out = self.conv2(self.relu(self.bn2(out)))
        out = self.conv3(self.relu(self.bn3(out)))
        return out + identity

"""CBAM-style spatial attention used on the CNN branch in BiFusion."""
import torch
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor

from mmseg.utils import ConfigType, OptConfigType


class SpatialAttention(BaseModule):
    """Spatial attention: ``x * sigmoid(BN(conv7x7([max_c(x), mean_c(x)])))``.

    TransFuse eq. (2) (CBAM, Woo et al. 2018). As in the reference
    (``ChannelPool`` then ``Conv(2, 1, 7, bn=True, relu=False, bias=False)``),
    the channel max is stacked before the channel mean, and the 7x7 conv has
    no bias but a BN.

    Args:
        kernel_size (int): Conv kernel size. Default: 7.
        norm_cfg (dict): Norm after the conv. Default: BN.

    Shape:
        ``(B, C, H, W) -> (B, C, H, W)``.
    """

    def __init__(self,
                 kernel_size: int = 7,
                 norm_cfg: ConfigType = dict(type='BN'),
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg)
        self.conv = ConvModule(
            2,
            1,
            kernel_size,
            padding=(kernel_size - 1) // 2,
            bias=False,
            norm_cfg=norm_cfg,
            act_cfg=None)

    def forward(self, x: Tensor) -> Tensor:
        pooled = torch.cat(
            [x.max(dim=1, keepdim=True)[0],
             x.mean(dim=1, keepdim=True)],
            dim=1)
        return x * torch.sigmoid(self.conv(pooled))

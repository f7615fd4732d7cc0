"""CNN branch of TransFuse: a torchvision ResNet without its last stage."""
from typing import List

import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor
from torchvision.models import resnet

from mmseg.registry import MODELS
from mmseg.utils import OptConfigType
from ..utils import PretrainedBranchMixin, adapt_input, split_keys


@MODELS.register_module()
class TransFuseResNet(PretrainedBranchMixin, BaseModule):
    """torchvision ResNet stem + ``layer1..3`` (``layer4`` and ``fc`` dropped).

    The reference builds ``torchvision.models.resnet34/50`` and calls its
    ``conv1/bn1/relu/maxpool/layer1/layer2/layer3``. The same torchvision
    modules are reused here under the same names, so torchvision (and timm,
    which names ResNets alike) checkpoints load 1:1, as do the official
    TransFuse ``resnet.*`` keys once ``transfuse_official.py`` has renamed
    them.

    Args:
        depth (int): 18, 34, 50, 101 or 152.
        in_channels (int): Input channels; other than 3 replaces ``conv1``
            (pretrained RGB kernels adapted by timm's ``adapt_input_conv``,
            see :func:`adapt_input`).
        init_cfg (dict, optional): ``dict(type='Pretrained',
            checkpoint='torchvision://resnet34')`` (or a URL / local file of
            a torchvision or timm ResNet); ``layer4`` and ``fc`` are left
            out.

    Shape:
        ``(B, C_in, H, W)`` -> ``[(B, C1, H/4, W/4), (B, C2, H/8, W/8),
        (B, C3, H/16, W/16)]`` with ``(C1, C2, C3)`` = 64/128/256 (R18/34) or
        256/512/1024 (R50+).
    """

    arch = {
        18: resnet.resnet18,
        34: resnet.resnet34,
        50: resnet.resnet50,
        101: resnet.resnet101,
        152: resnet.resnet152
    }

    def __init__(self,
                 depth: int = 34,
                 in_channels: int = 3,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg)
        if depth not in self.arch:
            raise KeyError(f'TransFuseResNet.depth={depth}: expected one of '
                           f'{sorted(self.arch)}')
        self.in_channels = in_channels
        net = self.arch[depth](weights=None)
        if in_channels != 3:
            net.conv1 = nn.Conv2d(
                in_channels,
                64,
                kernel_size=7,
                stride=2,
                padding=3,
                bias=False)
        self.conv1, self.bn1 = net.conv1, net.bn1
        self.relu, self.maxpool = net.relu, net.maxpool
        self.layer1, self.layer2, self.layer3 = (net.layer1, net.layer2,
                                                 net.layer3)
        expansion = 1 if depth < 50 else 4
        self.out_channels = (64 * expansion, 128 * expansion, 256 * expansion)

    def convert_pretrained(self, state_dict: dict) -> tuple:
        """torchvision / timm ResNet keys (``layer4``/``fc`` left out)."""
        state_dict, dropped = split_keys(
            state_dict, lambda key: key.startswith(('layer4.', 'fc.')))
        adapt_input(state_dict, 'conv1.weight', self.in_channels)
        return state_dict, dropped

    def forward_stem(self, x: Tensor) -> Tensor:
        """``(B, C_in, H, W) -> (B, 64, H/4, W/4)``."""
        return self.maxpool(self.relu(self.bn1(self.conv1(x))))

    def forward(self, x: Tensor) -> List[Tensor]:
        x = self.forward_stem(x)
        c1 = self.layer1(x)
        c2 = self.layer2(c1)
        c3 = self.layer3(c2)
        return [c1, c2, c3]

"""VGG-16 branch, the CNN stand-in for the transformer in Table 5."""
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor
from torchvision.models.vgg import cfgs, make_layers

from mmseg.registry import MODELS
from mmseg.utils import OptConfigType
from ..utils import PretrainedBranchMixin, adapt_input, split_keys


@MODELS.register_module()
class TransFuseVGG(PretrainedBranchMixin, BaseModule):
    """torchvision VGG-16 ``features`` up to the 1/16 max-pool (conv4_3).

    The paper's "R34 + VGG16, parallel, BiFusion" ablation (Table 5) swaps
    the transformer branch for VGG-16. This branch therefore has the
    transformer branch's interface: one map at 1/16 that the backbone
    upsamples to 1/8 and 1/4 with the same ``up1``/``up2`` stages, so only
    the global-branch encoder differs between the two rows of the table.

    Args:
        in_channels (int): Input channels (``features.0`` adapts).
        init_cfg (dict, optional): ``dict(type='Pretrained',
            checkpoint='torchvision://vgg16')`` (or a URL / local file of a
            torchvision ``vgg16``); the classifier and ``features[24:]`` are
            left out.

    Shape:
        ``(B, C_in, H, W) -> (B, 512, H/16, W/16)``.
    """

    #: ``features[:24]`` ends with the fourth max-pool (stride 16).
    num_layers = 24
    #: torchvision's VGG-16 ('D') layer list up to that max-pool
    arch = cfgs['D'][:14]

    def __init__(self,
                 in_channels: int = 3,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg)
        self.in_channels = in_channels
        # same modules and indices as ``vgg16().features[:24]``, without
        # building the 120M-parameter classifier
        features = make_layers(self.arch)
        assert len(features) == self.num_layers
        if in_channels != 3:
            features[0] = nn.Conv2d(in_channels, 64, 3, padding=1)
        self.features = features
        self.out_channels = 512

    def convert_pretrained(self, state_dict: dict) -> tuple:
        """torchvision ``vgg16`` keys (``features[:24]`` kept)."""

        def drop(key: str) -> bool:
            parts = key.split('.')
            return parts[0] != 'features' or int(parts[1]) >= self.num_layers

        state_dict, dropped = split_keys(state_dict, drop)
        adapt_input(state_dict, 'features.0.weight', self.in_channels)
        return state_dict, dropped

    def forward(self, x: Tensor) -> Tensor:
        return self.features(x)

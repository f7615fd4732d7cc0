"""ResNet with torchvision's rule for dilated stages (DETR's DC5 backbone)."""
from mmdet.models.backbones import ResNet
from mmdet.models.backbones.resnet import Bottleneck
from mmdet.registry import MODELS


@MODELS.register_module()
class TorchvisionDilatedResNet(ResNet):
    """mmdet :class:`ResNet` whose dilated stages dilate like torchvision's.

    A stage whose stride is replaced by dilation (``strides[i] == 1`` and
    ``dilations[i] > 1``, e.g. DC5: ``strides=(1, 2, 2, 1), dilations=(1, 1,
    1, 2)``) gets the dilation in all its blocks in mmdet's ResNet, while
    torchvision's ``replace_stride_with_dilation`` (used by DETR-DC5 and the
    SMCA-DETR reference code, ``--dilation``) keeps the *previous* dilation
    in the stage's first block and dilates only the others. The weights are
    the same; the first block's 3x3 convolution sees a different
    neighbourhood, so official DC5 checkpoints need this backbone to give
    the official outputs. Only Bottleneck blocks (ResNet-50/101/152) take
    part: torchvision's BasicBlock does not support dilation at all.

    Args:
        **kwargs: :class:`mmdet.models.backbones.ResNet` arguments.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        if self.block is not Bottleneck:
            raise ValueError(
                'TorchvisionDilatedResNet: torchvision dilates Bottleneck '
                f'ResNets only (depth 50/101/152), got depth {self.depth}')
        previous = 1
        for i, layer_name in enumerate(self.res_layers):
            dilation = self.dilations[i]
            if self.strides[i] == 1 and dilation > 1:
                conv = getattr(self, layer_name)[0].conv2  # the 3x3 conv
                # padding = dilation keeps the 3x3 output size (stride 1)
                conv.dilation = (previous, previous)
                conv.padding = (previous, previous)
            previous = dilation

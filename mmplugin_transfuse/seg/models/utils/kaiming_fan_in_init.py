"""The TransFuse reference's weight initialisation as an mmengine init_cfg."""
import math

import torch.nn as nn
from mmengine.model.weight_init import BaseInit, update_init_info
from mmengine.registry import WEIGHT_INITIALIZERS
from torch.nn.modules.batchnorm import _BatchNorm


@WEIGHT_INITIALIZERS.register_module(name='KaimingFanIn')
class KaimingFanInInit(BaseInit):
    """``init_cfg=dict(type='KaimingFanIn')``: Rayicer/TransFuse's init.

    The reference's ``init_weights(m)`` (applied to ``up1``, ``up2``, the
    BiFusion blocks ``up_c*``, the decoder stages and the heads ``final_*``;
    not to the ResNet or the DeiT) sets, for every ``nn.Conv2d``:

    * weight ~ ``N(0, 2 / fan_in)`` (``kaiming_normal_(mode='fan_in',
      nonlinearity='relu')``);
    * bias ~ ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, with
      ``fan_in = C_in / groups * k_h * k_w`` (PyTorch's default bias init);

    and every BatchNorm to weight 1, bias 0. mmcv's ``ConvModule`` would
    instead use Kaiming fan-out with zero bias, and mmseg's decode head
    Normal(0, 0.01) for ``conv_seg``.

    mmengine applies a parent's ``init_cfg`` *before* calling its children's
    ``init_weights``, so a ``ConvModule`` would re-initialise its conv after
    this. Every ``ConvModule`` (any child module with its own
    ``init_weights`` that is not an mmengine ``BaseModule``) covered here is
    therefore marked ``is_init = True``, the flag mmengine checks to skip a
    child's ``init_weights``.
    """

    def __call__(self, module: nn.Module) -> None:
        for m in module.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(
                    m.weight, mode='fan_in', nonlinearity='relu')
                if m.bias is not None:
                    fan_in = nn.init._calculate_fan_in_and_fan_out(
                        m.weight)[0]
                    bound = 1 / math.sqrt(fan_in)
                    nn.init.uniform_(m.bias, -bound, bound)
            elif isinstance(m, _BatchNorm) and m.affine:
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            if m is not module and hasattr(m, 'init_weights') and not \
                    hasattr(type(m), 'is_init'):
                m.is_init = True
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())

    def _get_init_info(self) -> str:
        return (f'{self.__class__.__name__}: Conv2d weight kaiming_normal '
                'fan_in, bias U(+-1/sqrt(fan_in)); BN 1/0')

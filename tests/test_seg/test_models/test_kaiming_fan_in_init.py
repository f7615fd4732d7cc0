"""KaimingFanIn: the reference's conv / BN initialisation via init_cfg."""
import math

import torch
import torch.nn as nn

from mmseg.registry import MODELS
from mmplugin_transfuse.seg.models.utils import TransFuseUp


def _check_reference_init(conv: nn.Conv2d) -> None:
    """weight ~ N(0, 2/fan_in), bias ~ U(+-1/sqrt(fan_in)), lib/TransFuse.py"""
    fan_in = conv.in_channels // conv.groups * math.prod(conv.kernel_size)
    std = conv.weight.std().item()
    assert abs(std - math.sqrt(2 / fan_in)) < 0.1 * math.sqrt(2 / fan_in)
    bound = 1 / math.sqrt(fan_in)
    bias = conv.bias.detach()
    assert 0 < bias.abs().max() <= bound
    if bias.numel() < 32:
        return
    # a uniform draw spreads over the interval (mean |b| = bound / 2)
    assert abs(bias.abs().mean().item() - bound / 2) < 0.25 * bound


def test_up_block_convs_follow_the_reference_formula():
    torch.manual_seed(0)
    # in 96 != out 64: fan-in 96*9 and fan-out 64*9 give different stds
    up = TransFuseUp(96, 64)
    up.init_weights()
    _check_reference_init(up.conv.conv1.conv)
    _check_reference_init(up.conv.identity.conv)
    torch.testing.assert_close(up.conv.conv1.bn.weight, torch.ones(64))
    # mmcv's ConvModule init (fan-out, zero bias) with init_cfg=None
    plain = TransFuseUp(96, 64, init_cfg=None)
    plain.init_weights()
    assert plain.conv.conv1.conv.bias.abs().max() == 0
    fan_out_std = math.sqrt(2 / (64 * 9))
    assert abs(plain.conv.conv1.conv.weight.std().item() - fan_out_std) \
        < 0.1 * fan_out_std


def test_head_and_neck_default_to_the_reference_init():
    torch.manual_seed(0)
    head = MODELS.build(
        dict(
            type='TransFuseHead',
            in_channels=(256, 128, 64, 64),
            channels=64,
            num_classes=2,
            out_channels=1,
            loss_decode=[
                dict(type='StructureLoss', loss_name=f'loss_{i}')
                for i in range(3)
            ]))
    head.init_weights()
    # the prediction conv (reference final_2.1): not Normal(0, 0.01)
    _check_reference_init(head.conv_seg)
    _check_reference_init(head.coarse_head[0].conv)
    neck = MODELS.build(dict(type='BiFusionNeck'))
    neck.init_weights()
    _check_reference_init(neck.fusions[0].cnn_proj.conv)
    _check_reference_init(neck.fusions[0].residual.conv2.conv)

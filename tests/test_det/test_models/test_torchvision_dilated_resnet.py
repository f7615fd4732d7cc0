"""TorchvisionDilatedResNet = torchvision's DC5 ResNet (reference
``--dilation``)."""
import pytest
import torch
from mmdet.models.backbones import ResNet
from torchvision.models import resnet50

from mmplugin_transfuse.det.models import TorchvisionDilatedResNet

DC5 = dict(
    depth=50,
    strides=(1, 2, 2, 1),
    dilations=(1, 1, 1, 2),
    out_indices=(3, ),
    norm_eval=True)


def test_same_c5_as_torchvision_dc5():
    torch.manual_seed(0)
    reference = resnet50(replace_stride_with_dilation=[False, False, True])
    with torch.no_grad():  # non-trivial BN statistics
        for m in reference.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
    reference.eval()
    weights = {
        k: v
        for k, v in reference.state_dict().items() if not k.startswith('fc.')
    }
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        r = reference
        want = r.layer4(r.layer3(r.layer2(r.layer1(
            r.maxpool(r.relu(r.bn1(r.conv1(x))))))))
        ours = TorchvisionDilatedResNet(**DC5)
        ours.load_state_dict(weights, strict=True)  # same keys
        ours.eval()  # (mmdet's ResNet.train returns None)
        got = ours(x)[0]
        plain = ResNet(**DC5)
        plain.load_state_dict(weights, strict=True)
        plain.eval()
        other = plain(x)[0]
    assert got.shape == want.shape == (1, 2048, 4, 4)  # stride 16
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
    # mmdet's ResNet dilates the first block as well: a different output
    assert not torch.allclose(other, want, rtol=1e-3, atol=1e-3)
    assert ours.layer4[0].conv2.dilation == (1, 1)
    assert ours.layer4[1].conv2.dilation == (2, 2)


def test_basic_block_refused():
    with pytest.raises(ValueError, match='Bottleneck'):
        TorchvisionDilatedResNet(**dict(DC5, depth=18))

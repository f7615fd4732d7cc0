"""Pretrained branch weights from local timm / torchvision files."""
import pytest
import timm
import torch
from torchvision.models import resnet34, vgg16

from mmseg.registry import MODELS
from mmplugin_transfuse.seg.models.utils import (adapt_first_conv,
                                                 resize_pos_embed)


@pytest.fixture(scope='module')
def deit_file(tmp_path_factory):
    """A timm DeiT-S (12 blocks, class token, 14x14 grid) state dict."""
    torch.manual_seed(0)
    model = timm.create_model(
        'deit_small_patch16_224', pretrained=False, num_classes=10)
    path = tmp_path_factory.mktemp('ckpt') / 'deit_s.pth'
    # the DeiT release nests the weights under 'model'
    torch.save({'model': model.state_dict()}, path)
    return str(path), model.state_dict()


@pytest.fixture(scope='module')
def resnet_file(tmp_path_factory):
    torch.manual_seed(0)
    state = resnet34(weights=None).state_dict()
    path = tmp_path_factory.mktemp('ckpt') / 'resnet34.pth'
    torch.save(state, path)
    return str(path), state


def test_deit_loads_into_vit_branch(deit_file):
    path, ref = deit_file
    vit = MODELS.build(
        dict(
            type='TransFuseViT',
            depth=8,
            pos_grid=(12, 16),
            init_cfg=dict(type='Pretrained', checkpoint=path)))
    vit.init_weights()
    own = vit.state_dict()
    assert 'cls_token' not in own
    torch.testing.assert_close(own['blocks.7.mlp.fc2.weight'],
                               ref['blocks.7.mlp.fc2.weight'])
    torch.testing.assert_close(own['patch_embed.proj.weight'],
                               ref['patch_embed.proj.weight'])
    # pos-embed: class token dropped, 14x14 resized to 12x16 as the reference
    expected = resize_pos_embed(ref['pos_embed'][:, 1:], (14, 14), (12, 16))
    torch.testing.assert_close(own['pos_embed'], expected)
    grid = ref['pos_embed'][:, 1:].transpose(1, 2).reshape(1, 384, 14, 14)
    direct = torch.nn.functional.interpolate(
        grid, size=(12, 16), mode='bilinear', align_corners=True)
    torch.testing.assert_close(own['pos_embed'],
                               direct.flatten(2).transpose(1, 2))


def test_resnet_loads_into_cnn_branch(resnet_file):
    path, ref = resnet_file
    cnn = MODELS.build(
        dict(
            type='TransFuseResNet',
            depth=34,
            init_cfg=dict(type='Pretrained', checkpoint=path)))
    cnn.init_weights()
    own = cnn.state_dict()
    assert not any(k.startswith(('layer4', 'fc')) for k in own)
    for key in own:
        torch.testing.assert_close(own[key], ref[key])


def test_backbone_and_logged_keys(deit_file, resnet_file, build_model,
                                  model_paths, capsys):
    model = build_model(
        model_paths['s'], **{
            'model.backbone.cnn.init_cfg':
            dict(type='Pretrained', checkpoint=resnet_file[0]),
            'model.backbone.global_branch.init_cfg':
            dict(type='Pretrained', checkpoint=deit_file[0]),
        })
    sd = model.state_dict()
    torch.testing.assert_close(sd['backbone.cnn.layer3.5.conv2.weight'],
                               resnet_file[1]['layer3.5.conv2.weight'])
    torch.testing.assert_close(
        sd['backbone.global_branch.blocks.0.norm1.bias'],
        deit_file[1]['blocks.0.norm1.bias'])


def test_report_lists_dropped_and_refuses_missing(deit_file):
    from mmplugin_transfuse.seg.models.utils import (convert_deit_checkpoint,
                                                     load_pretrained_branch)
    state = dict(deit_file[1])
    state.pop('norm.weight')
    converted, dropped = convert_deit_checkpoint(state, 8, (12, 16))
    assert 'cls_token' in dropped and 'head.weight' in dropped
    assert 'blocks.8.attn.qkv.weight' in dropped
    vit = MODELS.build(dict(type='TransFuseViT', depth=8))
    # a file that does not cover the branch is refused, naming what is missing
    with pytest.raises(ValueError,
                       match=r"x.pth' does not match the branch: 1 param"
                       r".*\['norm.weight'\]"):
        load_pretrained_branch(vit, converted, dropped, 'TransFuseViT',
                               'x.pth')
    full, dropped = convert_deit_checkpoint(dict(deit_file[1]), 8, (12, 16))
    load_pretrained_branch(vit, full, dropped, 'TransFuseViT', 'x.pth')
    torch.testing.assert_close(vit.norm.weight, deit_file[1]['norm.weight'])
    torch.testing.assert_close(vit.blocks[7].mlp.fc1.bias,
                               deit_file[1]['blocks.7.mlp.fc1.bias'])


def test_in_channels_2_adapts_rgb_kernels(deit_file, resnet_file):
    cnn = MODELS.build(
        dict(
            type='TransFuseResNet',
            depth=34,
            in_channels=2,
            init_cfg=dict(type='Pretrained', checkpoint=resnet_file[0])))
    cnn.init_weights()
    rgb = resnet_file[1]['conv1.weight']
    expected = rgb.mean(1, keepdim=True).repeat(1, 2, 1, 1) * 1.5
    torch.testing.assert_close(cnn.conv1.weight.data, expected)
    # a grey image gives the same stem response as with the RGB kernel
    grey = torch.rand(1, 1, 32, 32)
    torch.testing.assert_close(
        torch.nn.functional.conv2d(grey.repeat(1, 2, 1, 1), expected),
        torch.nn.functional.conv2d(grey.repeat(1, 3, 1, 1), rgb),
        rtol=1e-4,
        atol=1e-5)
    vit = MODELS.build(
        dict(
            type='TransFuseViT',
            in_channels=2,
            depth=2,
            init_cfg=dict(type='Pretrained', checkpoint=deit_file[0])))
    vit.init_weights()
    assert vit.patch_embed.proj.weight.shape == (384, 2, 16, 16)
    torch.testing.assert_close(
        vit.patch_embed.proj.weight.data,
        adapt_first_conv(deit_file[1]['patch_embed.proj.weight'], 2))


def test_vgg_branch_loads_torchvision_vgg16(tmp_path):
    state = vgg16(weights=None).features.state_dict()
    state = {f'features.{k}': v for k, v in state.items()}
    path = tmp_path / 'vgg16.pth'
    torch.save(state, path)
    vgg = MODELS.build(
        dict(
            type='TransFuseVGG',
            init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    vgg.init_weights()
    torch.testing.assert_close(vgg.features[21].weight.data,
                               state['features.21.weight'])


def test_bad_paths_are_refused(tmp_path):
    vit = MODELS.build(
        dict(
            type='TransFuseViT',
            depth=1,
            init_cfg=dict(
                type='Pretrained', checkpoint=str(tmp_path / 'none.pth'))))
    with pytest.raises(
            FileNotFoundError,
            match='TransFuseViT.init_cfg.checkpoint.*no such'):
        vit.init_weights()
    cnn = MODELS.build(
        dict(
            type='TransFuseResNet',
            init_cfg=dict(
                type='Pretrained', checkpoint='https://x.org/r34.pth')))
    with pytest.raises(FileNotFoundError, match='local file'):
        cnn.init_weights()


def test_shape_mismatch_is_refused(tmp_path):
    state = resnet34(weights=None).state_dict()
    path = tmp_path / 'r34.pth'
    torch.save(state, path)
    cnn = MODELS.build(
        dict(
            type='TransFuseResNet',
            depth=18,
            init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    cnn.init_weights()  # R34 keys beyond R18's blocks are only unexpected
    cnn50 = MODELS.build(
        dict(
            type='TransFuseResNet',
            depth=50,
            init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    with pytest.raises(ValueError, match='shape mismatch for layer1.0'):
        cnn50.init_weights()


def test_branches_share_one_init_weights():
    """One loading path (PretrainedBranchMixin) for the three branches; each
    only says how to convert a public checkpoint."""
    import inspect

    from mmplugin_transfuse.seg.models.backbones import (TransFuseResNet,
                                                         TransFuseVGG,
                                                         TransFuseViT)
    from mmplugin_transfuse.seg.models.utils import (PretrainedBranchMixin,
                                                     convert_deit_checkpoint)
    for cls in (TransFuseResNet, TransFuseViT, TransFuseVGG):
        assert cls.init_weights is PretrainedBranchMixin.init_weights
        assert 'convert_pretrained' in vars(cls)
    assert 'src_grid' not in inspect.signature(
        convert_deit_checkpoint).parameters

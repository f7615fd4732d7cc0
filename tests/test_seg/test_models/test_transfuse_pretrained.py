"""ImageNet weights of the TransFuse branches, fetched as OpenMMLab does.

Release files are served from 127.0.0.1 (``pretrained_server``); the torch
hub cache is an empty temporary ``$TORCH_HOME``.
"""
import glob
import os
import os.path as osp
import pickle
import socket

import pytest
import torch
import torch.nn.functional as F
from mmengine import Config
from torchvision.models.vgg import cfgs, make_layers

from mmseg.registry import MODELS
from tests.test_seg.test_models.pretrained_server import (  # noqa: F401
    DEIT_S, RESNET34, ReleaseServer, cached_files, release_files,
    serve_torchvision, server, torch_home)

CONFIG_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.dirname(__file__)))), 'configs',
    'transfuse')
POLYP_S = osp.join(CONFIG_DIR,
                   'transfuse-s_r34-deit-s_1xb16-30e_polyp-352x352.py')
CNN_KEY = 'model.backbone.cnn.init_cfg.checkpoint'
VIT_KEY = 'model.backbone.global_branch.init_cfg.checkpoint'
DEIT_URL = 'https://dl.fbaipublicfiles.com/deit/'


def build(path, part='model', **overrides):
    """``model`` (or only ``model.backbone``) of a config, initialised."""
    cfg = Config.fromfile(path)
    cfg.merge_from_dict(overrides)
    model = MODELS.build(cfg.model if part == 'model' else cfg.model.backbone)
    model.init_weights()
    return model if part == 'model' else dict(backbone=model)


def reference_pos_embed(pos_embed, grid):
    """The reference's resize (lib/DeiT.py): class token cut, the 14x14
    grid interpolated bilinearly with align_corners=True."""
    pe = pos_embed[:, 1:].transpose(1, 2)
    side = int(pe.shape[2]**0.5)
    pe = pe.reshape(1, pe.shape[1], side, side)
    pe = F.interpolate(pe, size=grid, mode='bilinear', align_corners=True)
    return pe.flatten(2).transpose(1, 2)


@pytest.mark.parametrize('use_timm', [True, False])
def test_pos_embed_resize_is_the_references(use_timm, monkeypatch):
    """timm's resample (timm >= 1.0.31) and the direct F.interpolate path
    both give the reference's bilinear align_corners=True resize."""
    from mmplugin_transfuse.seg.models.backbones import transfuse_vit
    if use_timm and not transfuse_vit._TIMM_ALIGN_CORNERS:
        pytest.skip('this timm has no align_corners in resample_abs_pos_embed')
    monkeypatch.setattr(transfuse_vit, '_TIMM_ALIGN_CORNERS', use_timm)
    pos_embed = torch.randn(1, 1 + 14 * 14, 8)
    for grid in ((12, 16), (22, 22), (14, 14), (8, 8)):
        torch.testing.assert_close(
            transfuse_vit.resize_grid_pos_embed(pos_embed, grid, (14, 14), 1),
            reference_pos_embed(pos_embed, grid))
    # run time: the stored 12x16 grid (no prefix token) to another grid
    stored = torch.randn(1, 12 * 16, 8)
    grid = stored.transpose(1, 2).reshape(1, 8, 12, 16)
    expected = F.interpolate(
        grid, size=(5, 7), mode='bilinear', align_corners=True)
    torch.testing.assert_close(
        transfuse_vit.resize_grid_pos_embed(stored, (5, 7), (12, 16)),
        expected.flatten(2).transpose(1, 2))


def assert_branches_equal_served(model, r34, deit, depth=8, grid=(22, 22)):
    backbone = model['backbone'] if isinstance(model, dict) else \
        model.backbone
    cnn = backbone.cnn.state_dict()
    assert set(cnn) == {
        k
        for k in r34 if not k.startswith(('layer4.', 'fc.'))
    }
    for key, value in cnn.items():
        torch.testing.assert_close(value, r34[key], rtol=0, atol=0)
    vit = backbone.global_branch.state_dict()
    for key, value in vit.items():
        if key != 'pos_embed':
            torch.testing.assert_close(value, deit[key], rtol=0, atol=0)
    assert f'blocks.{depth - 1}.mlp.fc2.weight' in vit
    assert f'blocks.{depth}.mlp.fc2.weight' not in vit
    torch.testing.assert_close(
        vit['pos_embed'], reference_pos_embed(deit['pos_embed'], grid))


@pytest.mark.parametrize('scheme', ['torchvision', 'http'])
def test_polyp_s_config_loads_the_served_releases_then_the_cache(
        scheme, release_files, server, torch_home, monkeypatch):
    """Both branches equal the served files after the adaptation; a second
    build (of the backbone: the same loading path) reads the hub cache
    with the server gone."""
    _, served = release_files
    assert Config.fromfile(POLYP_S).model.backbone.cnn.init_cfg.checkpoint \
        == 'torchvision://resnet34'
    serve_torchvision(monkeypatch, {'resnet34': server.url(RESNET34)})
    cnn = 'torchvision://resnet34' if scheme == 'torchvision' else \
        server.url(RESNET34)
    overrides = {CNN_KEY: cnn, VIT_KEY: server.url(DEIT_S)}
    # the whole segmentor once, the backbone alone for the http scheme
    model = build(POLYP_S, 'model' if scheme == 'torchvision' else
                  'backbone', **overrides)
    assert_branches_equal_served(model, served[RESNET34], served[DEIT_S])
    assert cached_files(torch_home) == {
        name: osp.getsize(osp.join(server.root, name))
        for name in (RESNET34, DEIT_S)
    }
    server.stop()
    again = build(POLYP_S, part='backbone', **overrides)
    assert_branches_equal_served(again, served[RESNET34], served[DEIT_S])


def _unused_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize('failure', ['404', 'unreachable', 'truncated'])
def test_failed_download_names_url_cache_and_override(failure, server,
                                                       torch_home):
    url = {
        '404': server.url('resnet34-00000000.pth'),
        'unreachable': f'http://127.0.0.1:{_unused_port()}/{RESNET34}',
        'truncated': server.url(f'truncated/{RESNET34}'),
    }[failure]
    cfg = Config.fromfile(POLYP_S)
    cfg.model.backbone.cnn.init_cfg.checkpoint = url
    backbone = MODELS.build(cfg.model.backbone)
    with pytest.raises(RuntimeError) as info:
        backbone.cnn.init_weights()
    message = str(info.value)
    assert url in message
    assert f'torch hub cache {torch_home} ' in message
    name = url.rsplit('/', 1)[1]
    assert f'--cfg-options {CNN_KEY}=/path/to/{name}' in message
    if failure == 'truncated':  # half the file reached the cache
        assert cached_files(torch_home) == {
            RESNET34: osp.getsize(osp.join(server.root, RESNET34)) // 2
        }
        assert f'delete {osp.join(torch_home, RESNET34)}' in message
    else:
        assert 'download' in message and 'failed' in message
        assert cached_files(torch_home) == {}


def test_a_download_that_is_not_weights_only_is_refused(
        server, torch_home, monkeypatch):
    """torch.hub passes weights_only=False; the branch loads it weights-only
    all the same (and leaves torch's switch as it found it)."""
    with open(osp.join(server.root, 'evil-1.pth'), 'wb') as f:
        pickle.dump({'conv1.weight': torch.zeros(1), 'x': ReleaseServer}, f)
    monkeypatch.delenv('TORCH_FORCE_WEIGHTS_ONLY_LOAD', raising=False)
    cnn = MODELS.build(
        dict(
            type='TransFuseResNet',
            init_cfg=dict(
                type='Pretrained', checkpoint=server.url('evil-1.pth'))))
    with pytest.raises(ValueError, match='is not a weights-only checkpoint'):
        cnn.init_weights()
    assert 'TORCH_FORCE_WEIGHTS_ONLY_LOAD' not in os.environ


@pytest.mark.parametrize('in_channels', [1, 2])
def test_first_layers_adapted_to_the_input_channels(in_channels,
                                                    release_files):
    root, served = release_files
    cnn = MODELS.build(
        dict(
            type='TransFuseResNet',
            in_channels=in_channels,
            init_cfg=dict(
                type='Pretrained', checkpoint=osp.join(root, RESNET34))))
    cnn.init_weights()
    vit = MODELS.build(
        dict(
            type='TransFuseViT',
            in_channels=in_channels,
            depth=1,
            init_cfg=dict(
                type='Pretrained', checkpoint=osp.join(root, DEIT_S))))
    vit.init_weights()
    for got, rgb in ((cnn.conv1.weight, served[RESNET34]['conv1.weight']),
                     (vit.patch_embed.proj.weight,
                      served[DEIT_S]['patch_embed.proj.weight'])):
        if in_channels == 1:  # a grey image gives the RGB kernel's response
            expected = 3 * rgb.mean(1, keepdim=True)
        else:  # R and G kernels, scaled so the response keeps its size
            expected = torch.stack([rgb[:, 0], rgb[:, 1]], 1) * 1.5
        torch.testing.assert_close(got.data, expected)


def test_hybrid_sequential_keeps_its_patch_embedding_random(
        release_files, server, torch_home, monkeypatch):
    """R34 + DeiT-S sequential: DeiT's 16x16 patch kernel does not fit the
    1x1 'patches' on the 256-channel CNN map; everything else loads."""
    _, served = release_files
    serve_torchvision(monkeypatch, {'resnet34': server.url(RESNET34)})
    model = build(
        osp.join(CONFIG_DIR,
                 'transfuse-seq_r34-deit-s_1xb16-30e_polyp-352x352.py'),
        **{VIT_KEY: server.url(DEIT_S)})
    vit = model.backbone.global_branch
    assert vit.patch_embed.proj.weight.shape == (384, 256, 1, 1)
    torch.testing.assert_close(vit.blocks[7].attn.qkv.weight,
                               served[DEIT_S]['blocks.7.attn.qkv.weight'])
    torch.testing.assert_close(
        vit.pos_embed, reference_pos_embed(served[DEIT_S]['pos_embed'],
                                           (22, 22)))
    torch.testing.assert_close(model.backbone.cnn.layer3[5].bn2.weight,
                               served[RESNET34]['layer3.5.bn2.weight'])


def test_deit_b384_pos_embed_resized_to_24x32():
    """TransFuse-L*: DeiT-B/384's 1 + 24*24 tokens -> the 24x32 grid."""
    vit = MODELS.build(
        dict(
            type='TransFuseViT',
            embed_dims=768,
            depth=1,
            num_heads=12,
            pos_grid=(24, 32)))
    pos_embed = torch.randn(1, 1 + 24 * 24, 768)
    converted, dropped = vit.convert_pretrained({
        'cls_token': torch.zeros(1, 1, 768),
        'pos_embed': pos_embed,
        'blocks.3.norm1.weight': torch.ones(768),
    })
    assert dropped == ['cls_token', 'blocks.3.norm1.weight']
    torch.testing.assert_close(converted['pos_embed'],
                               reference_pos_embed(pos_embed, (24, 32)))


def test_vgg16_branch_loads_torchvision_vgg16(tmp_path):
    """torchvision's vgg16 file: features[:24] kept, the rest left out."""
    # vgg16's features without building its 124M-parameter classifier
    features = make_layers(cfgs['D']).state_dict()
    state = {f'features.{k}': v for k, v in features.items()}
    # the classifier's real keys; small shapes keep the file small
    state.update({'classifier.0.weight': torch.zeros(4, 8)})
    torch.save(state, tmp_path / 'vgg16-397923af.pth')
    vgg = MODELS.build(
        dict(
            type='TransFuseVGG',
            init_cfg=dict(
                type='Pretrained',
                checkpoint=str(tmp_path / 'vgg16-397923af.pth'))))
    vgg.init_weights()
    assert set(vgg.state_dict()) == {
        k
        for k in state
        if k.startswith('features.') and int(k.split('.')[1]) < 24
    }
    torch.testing.assert_close(vgg.features[21].weight.data,
                               state['features.21.weight'])


def test_files_of_another_architecture_are_refused(release_files, tmp_path):
    root, served = release_files
    # a one-block DeiT-S without its final norm's weight
    missing = {
        k: v
        for k, v in served[DEIT_S].items()
        if not k.startswith(('blocks.', 'head.')) or k.startswith('blocks.0.')
    }
    missing.pop('norm.weight')
    torch.save({'model': missing}, tmp_path / 'deit.pth')
    vit = MODELS.build(
        dict(
            type='TransFuseViT',
            depth=1,
            init_cfg=dict(
                type='Pretrained', checkpoint=str(tmp_path / 'deit.pth'))))
    with pytest.raises(ValueError,
                       match=r"deit.pth' does not match TransFuseViT: 1 "
                       r"param.*\['norm.weight'\]"):
        vit.init_weights()
    cnn50 = MODELS.build(
        dict(
            type='TransFuseResNet',
            depth=50,
            init_cfg=dict(
                type='Pretrained', checkpoint=osp.join(root, RESNET34))))
    with pytest.raises(ValueError,
                       match=r'does not fit TransFuseResNet: 23 shapes differ'
                       r': layer1.0.conv1.weight: \(64, 64, 3, 3\) in the '
                       r'file, \(64, 64, 1, 1\) here'):
        cnn50.init_weights()


def test_missing_local_file_names_the_field(tmp_path):
    cfg = Config.fromfile(POLYP_S)
    cfg.model.backbone.global_branch.init_cfg.checkpoint = str(tmp_path /
                                                              'none.pth')
    backbone = MODELS.build(cfg.model.backbone)
    with pytest.raises(FileNotFoundError,
                       match=f'{VIT_KEY}=.*none.pth.: no such file'):
        backbone.global_branch.init_weights()


R34 = 'torchvision://resnet34'
R50 = 'torchvision://resnet50'


def paper_weights(name):
    """(CNN, global branch) checkpoints of a config, as the paper."""
    if 'synthetic' in name:  # demo / try-out configs: random init
        return None, None
    if name.startswith('transfuse-l-star_'):
        return R50, DEIT_URL + 'deit_base_patch16_384-8de9b5d1.pth'
    if name.startswith('transfuse-l_'):
        return R50, DEIT_URL + 'deit_base_patch16_224-b5f2ef4d.pth'
    deit_s = DEIT_URL + 'deit_small_patch16_224-cd65a155.pth'
    if name.startswith('transfuse-seq_deit-s_'):
        return None, deit_s
    if name.startswith('transfuse-seq_r34_'):
        return R34, None
    if '_r34-vgg16_' in name:
        return R34, 'torchvision://vgg16'
    return R34, deit_s


@pytest.mark.parametrize(
    'name', sorted(
        osp.basename(p) for p in glob.glob(osp.join(CONFIG_DIR, '*.py'))))
def test_configs_start_from_the_papers_weights(name):
    backbone = Config.fromfile(osp.join(CONFIG_DIR, name)).model.backbone

    def checkpoint(branch):
        init_cfg = None if branch is None else branch.get('init_cfg')
        return None if init_cfg is None else init_cfg.checkpoint

    assert (checkpoint(backbone.get('cnn')),
            checkpoint(backbone.get('global_branch'))) == paper_weights(name)


def test_model_zoo_names_resolve_through_mmengines_tables(monkeypatch):
    from mmengine.runner import checkpoint

    from mmplugin_transfuse.seg.models.utils import checkpoint_url
    assert checkpoint_url('torchvision://resnet34') == \
        'https://download.pytorch.org/models/resnet34-b627a593.pth'
    assert checkpoint_url('torchvision://vgg16') == \
        'https://download.pytorch.org/models/vgg16-397923af.pth'
    monkeypatch.setattr(
        checkpoint, 'get_external_models', lambda: {
            'resnet50_caffe': 'https://example.org/r50_caffe-788b5fa3.pth',
            'in_home': 'models/r50.pth',  # a file under the mmengine home
        })
    assert checkpoint_url('open-mmlab://resnet50_caffe') == \
        'https://example.org/r50_caffe-788b5fa3.pth'
    assert checkpoint_url('open-mmlab://in_home') is None
    assert checkpoint_url('work_dirs/r34.pth') is None
    with pytest.raises(ValueError, match="no torchvision:// model 'resnet35'"):
        checkpoint_url('torchvision://resnet35')

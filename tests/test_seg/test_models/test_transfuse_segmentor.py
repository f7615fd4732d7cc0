"""TransFuse as a stock mmseg EncoderDecoder, built from the real configs."""
import glob
import os.path as osp

import pytest
import torch
from mmengine import Config

from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from tests.test_seg.test_models.pretrained_server import without_pretrained

ISIC_S = 'transfuse-s_r34-deit-s_1xb16-30e_isic2017-192x256.py'


def cfg_path(model_paths, name):
    return osp.join(model_paths['config_dir'], name)


def loss_of(model, inputs, samples):
    losses = model.loss(inputs, samples)
    return sum(v for k, v in losses.items() if 'loss_' in k), losses


@pytest.fixture(scope='module')
def model_s():
    """TransFuse-S of the ISIC config, built once for this module (random
    init: its ImageNet weights are tested in test_transfuse_pretrained)."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    cfg = Config.fromfile(
        osp.join(
            osp.dirname(osp.dirname(osp.dirname(osp.dirname(__file__)))),
            'configs', 'transfuse', ISIC_S))
    model = MODELS.build(without_pretrained(cfg.model))
    model.init_weights()
    return model


def test_param_count_transfuse_s(model_s):
    n = sum(p.numel() for p in model_s.parameters())
    # the reference TransFuse_S minus its unused class token (384)
    assert n == 26_248_341
    assert abs(n - 26.3e6) <= 0.005 * 26.3e6


def test_transfuse_s_train_step_at_the_reference_size(model_s, make_samples):
    """The full-size TransFuse-S (depth 8) once, at the reference 192x256."""
    model = model_s
    model.zero_grad(set_to_none=True)
    model.train()
    loss, losses = loss_of(model, torch.randn(1, 3, 192, 256),
                           make_samples(1, 192, 256))
    assert {'decode.loss_fused', 'decode.loss_branch',
            'decode.loss_coarse'} <= set(losses)
    loss.backward()
    # every parameter receives a gradient (no unused parameters for DDP)
    no_grad = [n for n, p in model.named_parameters() if p.grad is None]
    assert not no_grad


@pytest.mark.parametrize('h,w', [(80, 112), (96, 96)])
def test_transfuse_s_other_input_sizes(h, w, build_model, model_paths,
                                       make_samples):
    """Sizes unlike the stored 12x16 pos-embed grid (5x7, a square 6x6):
    the resize does not depend on the depth, so one block suffices."""
    model = build_model(model_paths['s'],
                        **{'model.backbone.global_branch.depth': 1})
    model.train()
    loss, _ = loss_of(model, torch.randn(1, 3, h, w), make_samples(1, h, w))
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    model.eval()
    with torch.no_grad():
        out = model.predict(
            torch.randn(1, 3, h, w), [
                SegDataSample(
                    metainfo=dict(
                        img_shape=(h, w), pad_shape=(h, w), ori_shape=(h, w)))
            ])
    pred = out[0].pred_sem_seg.data
    assert pred.shape == (1, h, w)
    assert set(pred.unique().tolist()) <= {0, 1}
    assert out[0].seg_logits.data.shape == (1, h, w)


def test_three_classes(build_model, model_paths, make_samples):
    model = build_model(
        model_paths['s'], **{
            'model.decode_head.num_classes': 3,
            'model.decode_head.out_channels': 3,
            'model.backbone.global_branch.depth': 1
        })
    model.train()
    loss, losses = loss_of(model, torch.randn(2, 3, 64, 64),
                           make_samples(2, 64, 64, num_classes=3))
    loss.backward()
    model.eval()
    with torch.no_grad():
        out = model.predict(
            torch.randn(1, 3, 64, 64), [
                SegDataSample(
                    metainfo=dict(
                        img_shape=(64, 64),
                        pad_shape=(64, 64),
                        ori_shape=(64, 64)))
            ])
    assert out[0].seg_logits.data.shape == (3, 64, 64)
    assert out[0].pred_sem_seg.data.max() <= 2


def test_data_preprocessor_pads_to_16(build_model, model_paths):
    """Inputs not divisible by 16 are padded, predictions cropped back."""
    model = build_model(model_paths['s'], **{
        'model.backbone.global_branch.depth': 1
    }).eval()
    img = torch.randint(0, 255, (3, 50, 70), dtype=torch.uint8)
    sample = SegDataSample(
        metainfo=dict(img_shape=(50, 70), ori_shape=(50, 70)))
    with torch.no_grad():
        out = model.test_step(dict(inputs=[img], data_samples=[sample]))
    assert out[0].pred_sem_seg.data.shape == (1, 50, 70)


CONFIGS = sorted(
    glob.glob(
        osp.join(
            osp.dirname(osp.dirname(osp.dirname(osp.dirname(__file__)))),
            'configs', 'transfuse', '*.py')))


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds_and_trains_one_step(path, make_samples):
    cfg = Config.fromfile(path)
    assert cfg.custom_imports['imports'] == ['mmplugin_transfuse']
    assert cfg.default_scope == 'mmseg'
    if cfg.model.backbone.get('global_branch') and \
            'depth' in cfg.model.backbone.global_branch:
        # keep the test fast: the config's structure, 1 transformer block
        cfg.model.backbone.global_branch.depth = 1
    # random init, nothing downloaded (test_transfuse_pretrained loads the
    # configs' ImageNet files from a local server)
    model = MODELS.build(without_pretrained(cfg.model))
    model.init_weights()
    model.train()
    cnn = cfg.model.backbone.get('cnn', None)
    if cnn is not None and cnn.get('depth') == 50:  # -L / -L*: R50 widths
        assert model.backbone.cnn.out_channels == (256, 512, 1024)
        assert model.backbone.cnn.layer3[0].conv3.out_channels == 1024
    in_ch = cfg.model.backbone.get('cnn', None) or \
        cfg.model.backbone.global_branch
    c = in_ch.get('in_channels', 3)
    head = cfg.model.decode_head
    num_classes = head.num_classes
    inputs = torch.randn(2, c, 32, 32)
    loss, losses = loss_of(model, inputs,
                           make_samples(2, 32, 32, num_classes=num_classes))
    assert torch.isfinite(loss)
    loss.backward()
    unused = [n for n, p in model.named_parameters() if p.grad is None]
    assert not unused, f'{osp.basename(path)}: unused parameters {unused}'

"""Official SMCA-DETR keys convert 1:1 and load strictly into SMCADETR."""
import argparse
import copy
import os.path as osp
import sys

import pytest
import torch
from mmdet.registry import MODELS
from mmengine import Config
from mmengine.registry import init_default_scope

import mmplugin_transfuse  # noqa: F401

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
# copied from shared/spec/official_keys (key names/shapes of the reference)
KEY_LIST = osp.join(REPO, 'tests', 'data', 'official_keys',
                    'smca_detr_r50.txt')
CONVERTER = osp.join(REPO, 'tools', 'model_converters', 'smca_official.py')
sys.path.insert(0, osp.dirname(CONVERTER))
import smca_official  # noqa: E402
from smca_official import (COCO_CATEGORY_IDS, check_args, convert,  # noqa
                           convert_key, load_official)

from mmplugin_transfuse.det.models.layers import \
    SMCATransformerDecoderLayer  # noqa: E402


def official_state_dict():
    """Random tensors with the reference checkpoint's keys and shapes."""
    gen = torch.Generator().manual_seed(0)
    state = {}
    with open(KEY_LIST) as f:
        for line in f:
            if line.startswith('#') or not line.strip():
                continue
            key, shape = line.rstrip('\n').split('\t')
            shape = tuple(int(s) for s in shape.strip('()').split(',') if s)
            state[key] = torch.randn(shape, generator=gen)
    return state


@pytest.fixture(scope='module')
def model():
    init_default_scope('mmdet')
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'smca_detr',
                 'smca-detr_r50_8xb2-50e_coco.py'))
    cfg.model.backbone.init_cfg = None
    return MODELS.build(cfg.model)


def test_strict_load(model):
    official = official_state_dict()
    assert len(official) == 500
    converted = convert(official)
    model.load_state_dict(converted, strict=True)
    # values travel unchanged (spot checks, one per rule family)
    pairs = {
        'transformer.decoder.layers.0.point1.layers.2.weight':
        'decoder.layers.0.center_mlp.layers.2.weight',
        'transformer.decoder.layers.3.point2.bias':
        'decoder.layers.3.prior.offset_fc.bias',
        'transformer.decoder.layers.5.point3.weight':
        'decoder.layers.5.prior.scale_fc.weight',
        'transformer.decoder.layers.2.norm4.weight':
        'decoder.layers.2.norm4.weight',
        'transformer.decoder.layers.1.multihead_attn.in_proj_weight':
        'decoder.layers.1.cross_attn.attn.in_proj_weight',
        'transformer.encoder.layers.4.linear2.weight':
        'encoder.layers.4.ffn.layers.1.weight',
        'transformer.decoder.layers.4.norm3.bias':
        'decoder.layers.4.norms.2.bias',
        'bbox_embed.layers.2.weight': 'bbox_head.fc_reg.weight',
        'input_proj.weight': 'neck.convs.0.conv.weight',
        'backbone.0.body.layer3.2.conv2.weight':
        'backbone.layer3.2.conv2.weight',
        'query_embed.weight': 'query_embedding.weight',
    }
    state = model.state_dict()
    for src, dst in pairs.items():
        assert torch.equal(state[dst], official[src]), dst
    # classifier: rows of the 80 used COCO category ids
    assert torch.equal(state['bbox_head.fc_cls.weight'],
                       official['class_embed.weight'][COCO_CATEGORY_IDS])
    assert torch.equal(state['bbox_head.fc_cls.bias'][0],
                       official['class_embed.bias'][1])


class NotAllowed:
    """A class an official checkpoint never holds (must stay refused)."""


def official_args(**changes):
    """The Namespace the official main.py saves, for the README's command
    (``--batch_size 2 --lr_drop 40 --num_queries 300 --epochs 50
    --dynamic_scale type3``) plus what ``init_distributed_mode`` adds."""
    args = argparse.Namespace(
        lr=1e-4, lr_backbone=1e-5, batch_size=2, weight_decay=1e-4,
        epochs=50, lr_drop=40, clip_max_norm=0.1, smooth=8,
        dynamic_scale='type3', frozen_weights=None, backbone='resnet50',
        dilation=False, position_embedding='sine', enc_layers=6,
        dec_layers=6, dim_feedforward=2048, hidden_dim=256, dropout=0.1,
        nheads=8, num_queries=300, pre_norm=False, masks=False,
        aux_loss=True, set_cost_class=2, set_cost_bbox=5, set_cost_giou=2,
        mask_loss_coef=1, dice_loss_coef=1, bbox_loss_coef=5,
        giou_loss_coef=2, eos_coef=0.1, dataset_file='coco',
        coco_path='/data/coco', coco_panoptic_path=None,
        remove_difficult=False, output_dir='smca_single_scale',
        device='cuda', seed=42, resume='', start_epoch=0, eval=False,
        num_workers=2, world_size=8, dist_url='env://', rank=0, gpu=0,
        distributed=True, dist_backend='nccl')
    for key, value in changes.items():
        setattr(args, key, value)
    return args


def save_like_official_main(path, state, args):
    """What the official ``main.py`` writes at the end of an epoch."""
    params = [torch.nn.Parameter(torch.randn(3, 2)) for _ in range(2)]
    optimizer = torch.optim.AdamW(params, lr=1e-4, weight_decay=1e-4)
    sum(p.sum() for p in params).backward()
    optimizer.step()
    lr_scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 40)
    torch.save(
        {
            'model': state,
            'optimizer': optimizer.state_dict(),
            'lr_scheduler': lr_scheduler.state_dict(),
            'epoch': 49,
            'args': args,
        }, path)


def test_official_checkpoint_converts_through_cli(tmp_path):
    with pytest.raises(KeyError, match='transformer.foo'):
        convert_key('transformer.foo.weight')
    official = official_state_dict()
    src = tmp_path / 'checkpoint0049.pth'
    save_like_official_main(src, official, official_args())
    dst = tmp_path / 'converted.pth'
    # the command line in-process (test_official_cli_checks_config runs a
    # converter in a fresh interpreter)
    smca_official.main([str(src), str(dst)])
    ckpt = torch.load(dst, weights_only=True)
    assert len(ckpt['state_dict']) == 500 + 53  # + BN num_batches_tracked
    assert ckpt['state_dict']['bbox_head.fc_cls.weight'].shape == (80, 256)
    assert torch.equal(ckpt['state_dict']['decoder.layers.3.prior.offset_fc.'
                                          'bias'],
                       official['transformer.decoder.layers.3.point2.bias'])


def test_load_official_reads_args_but_no_other_pickles(tmp_path):
    src = tmp_path / 'official.pth'
    save_like_official_main(src, {'query_embed.weight': torch.ones(1)},
                            official_args(num_queries=100))
    state, args = load_official(str(src))
    assert list(state) == ['query_embed.weight']
    assert isinstance(args, argparse.Namespace) and args.num_queries == 100
    # a bare state dict (how released weights are often shared) has no args
    torch.save({'query_embed.weight': torch.ones(1)}, src)
    assert load_official(str(src))[1] is None
    # any other class stays refused by weights_only=True
    torch.save({'model': {}, 'args': NotAllowed()}, src)
    with pytest.raises(ValueError, match='weights_only=True'):
        load_official(str(src))


@pytest.fixture(scope='module')
def r50_cfg():
    return Config.fromfile(
        osp.join(REPO, 'configs', 'smca_detr',
                 'smca-detr_r50_8xb2-50e_coco.py'))


@pytest.mark.parametrize('changes, message', [
    (dict(num_queries=100), r'args.num_queries=100 but model.num_queries=300'),
    (dict(dynamic_scale='type4'),
     r"args.dynamic_scale='type4' \(scale_mode='Cov'.*scale_mode='Indep'"),
    (dict(dilation=True), r'args.dilation=True but .*DC5.*=False'),
    (dict(backbone='resnet101'),
     r"args.backbone='resnet101' but .*='resnet50'"),
    (dict(dec_layers=3, smooth=4),
     r'dec_layers=3 but .*=6\n.*args.smooth=4.0 but .*beta=8.0'),
])
def test_args_mismatch_is_refused_naming_both_values(r50_cfg, changes,
                                                     message):
    assert check_args(official_args(), r50_cfg) == []
    with pytest.raises(ValueError, match=message):
        check_args(official_args(**changes), r50_cfg)


def test_args_of_other_variants_match_their_configs(r50_cfg):
    single = Config.fromfile(
        osp.join(REPO, 'configs', 'smca_detr',
                 'smca-detr-single_r50_8xb2-50e_coco.py'))
    assert check_args(official_args(dynamic_scale='type2'), single) == []
    shared = Config.fromfile(
        osp.join(REPO, 'configs', 'smca_detr',
                 'smca-detr-shared-indep_r50_8xb2-50e_coco.py'))
    with pytest.raises(ValueError, match='head_shared_prior=True'):
        check_args(official_args(), shared)
    with pytest.raises(ValueError, match="'type5'"):
        check_args(official_args(dynamic_scale='type5'), r50_cfg)
    cov = copy.deepcopy(r50_cfg)
    cov.model.decoder.layer_cfg.scale_mode = 'Cov'
    assert check_args(official_args(dynamic_scale='type4'), cov) == []
    dc5 = Config.fromfile(
        osp.join(REPO, 'configs', 'smca_detr',
                 'smca-detr_r50-dc5_8xb2-50e_coco.py'))
    notes = check_args(official_args(dilation=True), dc5)
    assert len(notes) == 1 and 'center_stride=32' in notes[0]
    dc5.model.center_stride = 32
    assert check_args(official_args(dilation=True), dc5) == []


def test_type4_scale_keys_load_into_cov_layer(r50_cfg):
    """Official type4 ``point3`` (24 = 8 heads x (x, y, xy)) ->
    ``prior.scale_fc``."""
    official = {
        k: v
        for k, v in official_state_dict().items()
        if k.startswith('transformer.decoder.layers.1.')
    }
    gen = torch.Generator().manual_seed(1)
    official['transformer.decoder.layers.1.point3.weight'] = torch.randn(
        24, 256, generator=gen)
    official['transformer.decoder.layers.1.point3.bias'] = torch.randn(
        24, generator=gen)
    prefix = 'decoder.layers.1.'
    converted = {
        k[len(prefix):]: v
        for k, v in convert(official).items()
    }
    layer_cfg = copy.deepcopy(r50_cfg.model.decoder.layer_cfg)
    layer_cfg.scale_mode = 'Cov'
    layer = SMCATransformerDecoderLayer(**layer_cfg)
    layer.load_state_dict(converted, strict=True)
    assert torch.equal(layer.prior.scale_fc.bias,
                       official['transformer.decoder.layers.1.point3.bias'])

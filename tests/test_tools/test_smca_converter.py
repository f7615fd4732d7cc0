"""Official SMCA-DETR keys convert 1:1 and load strictly into SMCADETR."""
import os.path as osp
import subprocess
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
from smca_official import COCO_CATEGORY_IDS, convert, convert_key  # noqa


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
        'decoder.layers.3.offset_fc.bias',
        'transformer.decoder.layers.5.point3.weight':
        'decoder.layers.5.scale_fc.weight',
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


def test_unknown_key_and_cli(tmp_path):
    with pytest.raises(KeyError, match='transformer.foo'):
        convert_key('transformer.foo.weight')
    official = official_state_dict()
    src = tmp_path / 'official.pth'
    torch.save({'model': official}, src)
    dst = tmp_path / 'converted.pth'
    subprocess.run([sys.executable, CONVERTER, str(src), str(dst)],
                   check=True)
    ckpt = torch.load(dst, weights_only=True)
    assert len(ckpt['state_dict']) == 500 + 53  # + BN num_batches_tracked
    assert ckpt['state_dict']['bbox_head.fc_cls.weight'].shape == (80, 256)

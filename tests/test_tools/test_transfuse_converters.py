"""TransFuse checkpoint converter: official state dicts -> the configs."""
import importlib.util
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine import Config
from mmengine.registry import init_default_scope

import mmplugin_transfuse  # noqa: F401
from mmseg.registry import MODELS

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
# copied from shared/spec/official_keys (the reference models' key layout)
KEYS_DIR = osp.join(REPO, 'tests', 'data', 'official_keys')
CFG_DIR = osp.join(REPO, 'configs', 'transfuse')
TOOLS = osp.join(REPO, 'tools', 'model_converters')


def load_tool(name):
    spec = importlib.util.spec_from_file_location(
        f'tool_{name}', osp.join(TOOLS, f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


official = load_tool('transfuse_official')


def official_state_dict_keys(name):
    """Keys of the reference checkpoint, in order."""
    with open(osp.join(KEYS_DIR, f'{name}.txt')) as f:
        return [
            line.split('\t')[0] for line in f
            if line.strip() and not line.startswith('#')
        ]


def official_state_dict(name):
    """Random tensors with the reference checkpoint's keys and shapes."""
    gen = torch.Generator().manual_seed(0)
    state = {}
    with open(osp.join(KEYS_DIR, f'{name}.txt')) as f:
        for line in f:
            if line.startswith('#') or not line.strip():
                continue
            key, shape = line.rstrip('\n').split('\t')
            shape = tuple(int(s) for s in shape.strip('()').split(',') if s)
            if shape == ():
                state[key] = torch.randint(0, 10, shape)
            elif key.endswith('running_var'):  # must be positive
                state[key] = torch.rand(shape, generator=gen) + 0.5
            else:
                state[key] = torch.randn(shape, generator=gen) * 0.1
    return state


@pytest.mark.parametrize('name,config', [
    ('transfuse_s', '_base_/models/transfuse-s_r34-deit-s.py'),
    ('transfuse_l', '_base_/models/transfuse-l_r50-deit-b.py'),
    ('transfuse_l_384', '_base_/models/transfuse-l-star_r50-deit-b384.py'),
])
def test_official_keys_convert_and_load_strictly(name, config):
    state = official_state_dict(name)
    converted, dropped = official.convert_official(state)
    assert dropped == ['transformer.cls_token']
    assert len(converted) == len(state) - 1
    init_default_scope('mmseg')
    model = MODELS.build(Config.fromfile(osp.join(CFG_DIR, config)).model)
    model.load_state_dict(converted, strict=True)
    # values land where they belong
    torch.testing.assert_close(model.neck.fusions[0].cnn_proj.conv.weight,
                               state['up_c.W_g.conv.weight'])
    torch.testing.assert_close(
        model.decode_head.up_blocks[1].attn_gate.psi.bn.running_var,
        state['up_c_2_2.attn_block.psi.1.running_var'])
    torch.testing.assert_close(model.decode_head.conv_seg.weight,
                               state['final_2.1.conv.weight'])
    torch.testing.assert_close(model.backbone.up1.conv.conv2.bn.weight,
                               state['up1.conv.double_conv.4.weight'])
    torch.testing.assert_close(model.backbone.global_branch.pos_embed,
                               state['transformer.pos_embed'])


def test_converted_model_runs_like_official_layout():
    """Eval-mode output at the reference size after a strict load."""
    state = official_state_dict('transfuse_s')
    converted, _ = official.convert_official(state)
    init_default_scope('mmseg')
    model = MODELS.build(
        Config.fromfile(
            osp.join(CFG_DIR,
                     '_base_/models/transfuse-s_r34-deit-s.py')).model)
    model.load_state_dict(converted, strict=True)
    model.eval()
    with torch.no_grad():
        logits = model._forward(torch.randn(1, 3, 192, 256))
    assert logits.shape == (1, 1, 48, 64)
    assert torch.isfinite(logits).all()


def test_unknown_keys_are_refused_and_listed():
    state = official_state_dict('transfuse_s')
    state['extra_head.weight'] = torch.zeros(1)
    state['up_c.unknown.weight'] = torch.zeros(1)
    with pytest.raises(
            KeyError, match=r"2 keys.*extra_head.weight.*"
            r"up_c.unknown.weight"):
        official.convert_official(state)


def test_official_cli_checks_config(tmp_path):
    state = official_state_dict('transfuse_s')
    src, dst = tmp_path / 'official.pth', tmp_path / 'converted.pth'
    torch.save(state, src)
    cfg = osp.join(CFG_DIR,
                   'transfuse-s_r34-deit-s_1xb16-30e_isic2017-192x256.py')
    cmd = [sys.executable, osp.join(TOOLS, 'transfuse_official.py')]
    cmd += [str(src), str(dst), '--config', cfg]
    # PYTHONPATH: import this checkout's package, not an installed copy
    subprocess.run(
        cmd, check=True, capture_output=True, env=dict(os.environ,
                                                      PYTHONPATH=REPO))
    out = torch.load(dst, weights_only=True)['state_dict']
    torch.testing.assert_close(out['backbone.cnn.conv1.weight'],
                               state['resnet.conv1.weight'])
    # a -L checkpoint does not fit the -S config: refused before writing
    converted, _ = official.convert_official(
        official_state_dict('transfuse_l'))
    with pytest.raises(ValueError, match='shape mismatch with .*isic2017'):
        official.check_against_config(converted, cfg)


def _run_official_cli(src, dst, *extra):
    """The converter's command line, run in-process (a subprocess costs a
    full torch/mmseg import; ``test_official_cli_checks_config`` runs one)."""
    official.main([str(src), str(dst), *extra])


@pytest.mark.parametrize('wrap', ['bare', 'state_dict', 'model', 'module'])
def test_official_cli_accepts_wrapped_checkpoints(tmp_path, wrap):
    state = _tiny_official_state_dict()
    if wrap == 'state_dict':
        saved = {'state_dict': state, 'epoch': 12}
    elif wrap == 'model':
        saved = {'model': state, 'optimizer': {'state': {}}, 'epoch': 3}
    elif wrap == 'module':  # DataParallel prefix
        saved = {f'module.{k}': v for k, v in state.items()}
    else:
        saved = state
    src, dst = tmp_path / 'official.pth', tmp_path / 'converted.pth'
    torch.save(saved, src)
    _run_official_cli(src, dst)
    out = torch.load(dst, weights_only=True)
    torch.testing.assert_close(
        out['state_dict']['decode_head.conv_seg.weight'],
        state['final_2.1.conv.weight'])
    assert out['meta']['align_corners'] is False


def _tiny_official_state_dict():
    """The official TransFuse-S keys with 1-element tensors: enough for the
    renaming (no --config), 100x cheaper to write and read than real sizes."""
    keys = official_state_dict_keys('transfuse_s')
    return {k: torch.full((1, ), float(i)) for i, k in enumerate(keys)}


class _NotWeights:
    pass


def test_official_cli_refuses_other_content(tmp_path):
    state = _tiny_official_state_dict()
    src, dst = tmp_path / 'bad.pth', tmp_path / 'out.pth'
    # an arbitrary object: refused by weights_only, with a clear message
    torch.save({'state_dict': state, 'args': _NotWeights()}, src)
    with pytest.raises(ValueError, match='not a weights-only checkpoint'):
        _run_official_cli(src, dst)
    # a dict of non-tensors: named
    torch.save({'resnet.conv1.weight': [1, 2], 'epoch': 3}, src)
    with pytest.raises(
            ValueError, match=r'2 entries are not tensors.*'
            r'resnet.conv1.weight \(list\)'):
        _run_official_cli(src, dst)
    # not a dict at all
    torch.save(torch.zeros(3), src)
    with pytest.raises(ValueError, match='expected a state dict'):
        _run_official_cli(src, dst)
    assert not dst.exists()


def test_official_cli_align_corners_must_match_the_config(tmp_path):
    """Released checkpoint: align_corners=False, as the ISIC -S config."""
    src, dst = tmp_path / 'official.pth', tmp_path / 'converted.pth'
    torch.save(official_state_dict('transfuse_s'), src)
    isic = osp.join(CFG_DIR,
                    'transfuse-s_r34-deit-s_1xb16-30e_isic2017-192x256.py')
    assert Config.fromfile(isic).model.decode_head.align_corners is False
    # a checkpoint of the current code (True) does not fit that config;
    # refused before the model is built (the default False passes in
    # test_official_cli_checks_config)
    with pytest.raises(
            ValueError, match=r'align_corners=True \(--align-corners\).*'
            r'model.decode_head.align_corners=False'):
        _run_official_cli(src, dst, '--config', isic, '--align-corners',
                          'true')
    assert not dst.exists()

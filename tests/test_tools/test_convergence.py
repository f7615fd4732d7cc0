"""tools/benchmark/convergence.py: the peer models (DAB-DETR, Deformable
DETR single- and multi-scale, multi-scale SMCA with the depthwise-conv
encoder) next to SMCA-DETR."""
import csv

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from tests.conftest import load_tool

PEERS = ('DAB-DETR', 'Deformable DETR', 'Deformable DETR multi-scale',
         'SMCA-DETR multi-scale dwconv')


@pytest.fixture(scope='module')
def conv():
    return load_tool('benchmark/convergence.py')


def _build(conv, name, opts):
    cfg = Config(dict(default_scope='mmdet',
                      model=conv.model_config(name, opts, 3)))
    return conv.common.build_model(cfg)


@pytest.fixture(scope='module')
def built(conv):
    """The peers and multi-scale SMCA at the default (CPU) recipe."""
    opts = conv.parse_args([]).opts
    return {
        name: _build(conv, name, opts)
        for name in PEERS + ('SMCA-DETR multi-scale', )
    }


def test_peer_models_share_the_recipe_and_keep_their_own_design(
        conv, built):
    opts = conv.parse_args([]).opts
    assert {n: type(m).__name__ for n, m in built.items()} == {
        'DAB-DETR': 'DABDETR', 'Deformable DETR': 'DeformableDETR',
        'Deformable DETR multi-scale': 'DeformableDETR',
        'SMCA-DETR multi-scale dwconv': 'SMCADETRMultiScale',
        'SMCA-DETR multi-scale': 'SMCADETRMultiScale'}
    x = torch.zeros(1, 3, 128, 128)
    for name, model in built.items():
        # the recipe's queries, depth, FFN, backbone (R18 cut after C4)
        assert model.num_queries == 20, name
        assert len(model.encoder.layers) == len(model.decoder.layers) == 3
        assert model.backbone(x)[-1].shape == (1, 256, 8, 8), name
        assert model.decoder.layers[0].ffn.layers[0][0].out_features == 1024
        assert model.bbox_head.num_classes == 3
        assert model.test_cfg['max_per_img'] == 20
    # DAB-DETR: 4-d anchor boxes as queries, PReLU FFNs, recipe dropout
    dab = built['DAB-DETR']
    assert dab.query_embedding.weight.shape == (20, 4)
    assert isinstance(dab.decoder.layers[0].ffn.layers[0][1], torch.nn.PReLU)
    assert dab.decoder.layers[0].cross_attn.attn_drop.p == 0.1
    # Deformable DETR: one level (the shared C4 map) or multi-scale SMCA's
    # three (8x8, 4x4, 2x2 cells of a 128 px image)
    ms_smca = built['SMCA-DETR multi-scale']
    ms_levels = [f.shape[-2:] for f in ms_smca.neck(ms_smca.backbone(x))]
    assert ms_levels == [(8, 8), (4, 4), (2, 2)]
    for name, levels in (('Deformable DETR', [(8, 8)]),
                         ('Deformable DETR multi-scale', ms_levels)):
        model = built[name]
        assert [f.shape[-2:]
                for f in model.neck(model.backbone(x))] == levels, name
        assert model.num_feature_levels == len(levels)
        assert model.encoder.layers[0].self_attn.num_levels == len(levels)
        assert model.decoder.layers[0].cross_attn.num_levels == len(levels)
        assert model.encoder.layers[0].self_attn.dropout.p == 0.1
        assert not model.as_two_stage and not model.with_box_refine
    # dwconv: multi-scale SMCA but for the encoder and the per-stride prior
    # factors of the COCO config (0.5, 0.5, 1, 2 at strides 8, 16, 32, 64)
    dw = conv.model_config('SMCA-DETR multi-scale dwconv', opts, 3)
    ms = conv.model_config('SMCA-DETR multi-scale', opts, 3)
    assert dw['encoder']['type'] == 'dwconv'
    assert dw['decoder']['layer_cfg'].pop('level_prior_factors') == [
        0.5, 1.0, 2.0
    ]
    assert {k: v for k, v in dw.items() if k != 'encoder'} == {
        k: v for k, v in ms.items() if k != 'encoder'}
    dw_model = built['SMCA-DETR multi-scale dwconv']
    assert type(dw_model.encoder).__name__ == 'SMCADWConvEncoder'
    assert dw_model.feat_strides == [16, 32, 64]
    assert dw_model.encoder.layers[0].dropout.p == 0.1
    # each model's choices are in --help
    for name in PEERS:
        assert f'\n{name}:' in '\n' + conv.MODEL_CHOICES


def test_deformable_detr_keeps_its_lr_multipliers_but_the_backbones(
        conv, built):
    """Sampling offsets and reference points at 0.1 x lr (Deformable DETR,
    Sec. 4.1); the backbone, as in every model of the study, at the full
    rate."""
    opts = conv.parse_args([]).opts
    for name, scaled in (('Deformable DETR', True), ('DAB-DETR', False)):
        cfg = conv.run_config(name, opts, 'data', 'work', 0, 'cpu')
        model = built[name]
        wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
        lr_of = {
            id(p): group['lr']
            for group in wrapper.optimizer.param_groups
            for p in group['params']
        }
        for param_name, p in model.named_parameters():
            slow = scaled and ('sampling_offsets' in param_name
                               or 'reference_points' in param_name)
            assert lr_of[id(p)] == pytest.approx(1e-5 if slow else 1e-4), (
                name, param_name)
        if scaled:
            assert any('sampling_offsets' in n
                       for n, _ in model.named_parameters())


def test_peer_models_smoke_run(conv, tmp_path, monkeypatch):
    # mmengine formats every config it logs and saves with yapf, most of a
    # 2-iteration run's time; the formatting is not under test
    monkeypatch.setattr('mmengine.config.config.FormatCode',
                        lambda text, **kwargs: (text, None))
    out = tmp_path / 'conv'
    conv.main([
        '--out', str(out), '--size', '32', '--num-train', '2', '--num-val',
        '2', '--iters', '2', '--val-interval', '2', '--batch', '1',
        '--enc-layers', '1', '--dec-layers', '1', '--ffn', '32', '--queries',
        '3', '--workers', '0', '--models', *PEERS
    ])
    with open(out / 'convergence.csv') as f:
        curves = list(csv.DictReader(f))
    assert [(r['model'], r['iteration'])
            for r in curves] == [(name, '2') for name in PEERS]
    assert all(0.0 <= float(r['mAP']) <= 1.0 for r in curves)
    for name in PEERS:
        work_dir = out / name.replace(' ', '_').lower()
        assert [p.name for p in work_dir.glob('*.pth')] == ['iter_2.pth']

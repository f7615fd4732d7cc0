"""tools/benchmark/: latency, memory and convergence scripts on tiny configs."""
import csv
import json
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmplugin_transfuse.utils import benchmark

from tests.conftest import CONFIG_ROOT, load_tool

UNET = osp.join(CONFIG_ROOT, 'baselines',
                'unet-s5-d16-c16_fcn_1xb4-600it_synthetic-polyp-128x128.py')
TRANSFUSE = osp.join(
    CONFIG_ROOT, 'transfuse',
    'transfuse-s_r34-deit-s_1xb8-200_synthetic-polyp-128x128.py')
SMCA = osp.join(CONFIG_ROOT, 'smca_detr',
                'smca-detr_r18_1xb8-36e_synthetic-shapes-160x160.py')


def _rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def _params(config: str) -> int:
    cfg = Config.fromfile(config)
    init_default_scope(cfg.default_scope)
    if cfg.default_scope == 'mmdet':
        from mmdet.registry import MODELS
    else:
        from mmseg.registry import MODELS
    return sum(p.numel() for p in MODELS.build(cfg.model).parameters())


def test_zoo_configs_load_without_pretrained_weights():
    common = benchmark
    detr = common.load_config('mmdet::detr/detr_r50_8xb2-150e_coco.py')
    assert detr.model.backbone.init_cfg is None
    assert common.task_of(detr) == 'det'
    segformer = common.load_config(
        'mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py')
    assert segformer.model.backbone.init_cfg is None
    assert common.task_of(segformer) == 'seg'
    unet = common.load_config(
        'mmseg::unet/unet-s5-d16_fcn_4xb4-40k_hrf-256x256.py')
    assert unet.model.get('pretrained') is None
    assert unet.model.backbone.base_channels == 64  # the zoo's UNet-S5-D16
    with pytest.raises(FileNotFoundError, match='no_such.py'):
        common.load_config('mmdet::detr/no_such.py')
    with pytest.raises(ValueError, match='expected HxW'):
        common.parse_size('512')


def test_latency_table_on_tiny_seg_configs(tmp_path):
    latency = load_tool('benchmark/latency.py')
    out = str(tmp_path / 'latency.csv')
    latency.main([
        '--task', 'seg', '--seg-models', UNET, '--extra', TRANSFUSE,
        '--seg-sizes', '32x32', '--runs', '3', '--warmup', '0', '--out', out
    ])
    rows = _rows(out)
    assert [r['config'] for r in rows] == [UNET, TRANSFUSE]
    unet, transfuse = rows
    assert unet['size'] == transfuse['size'] == '32x32'
    assert int(unet['runs']) == int(transfuse['runs']) == 3
    assert float(unet['latency_ratio']) == 1.0
    ratio = float(transfuse['latency_ms']) / float(unet['latency_ms'])
    assert float(transfuse['latency_ratio']) == pytest.approx(ratio)
    # params of the model each config builds; FLOPs as the TransFuse tool
    assert round(float(unet['params_M']) * 1e6) == _params(UNET)
    params, flops = load_tool(
        'analysis_tools/transfuse_params_flops.py').complexity(
            TRANSFUSE, (32, 32))
    assert round(float(transfuse['params_M']) * 1e6) == params
    assert float(transfuse['GFLOPs']) * 1e9 == pytest.approx(flops)
    assert float(transfuse['flops_ratio']) == pytest.approx(
        float(transfuse['GFLOPs']) / float(unet['GFLOPs']))


def test_latency_det_flops_equal_the_smca_tool(tmp_path):
    latency = load_tool('benchmark/latency.py')
    out = str(tmp_path / 'latency.csv')
    rows = latency.main([
        '--task', 'det', '--det-models', SMCA, '--det-sizes', '64x96',
        '--runs', '1', '--warmup', '0', '--out', out
    ])
    assert len(rows) == 1 and rows[0]['size'] == '64x96'
    ref = load_tool('analysis_tools/smca_params_flops.py').complexity(
        SMCA, 64, 96)
    # baddbmm (Q K^T under the additive log G mask) is counted too
    assert rows[0]['GFLOPs'] * 1e9 == pytest.approx(ref['flops_all'])
    assert rows[0]['params_M'] * 1e6 == pytest.approx(ref['params'])


def test_latency_rejects_a_mixed_group(tmp_path):
    latency = load_tool('benchmark/latency.py')
    with pytest.raises(ValueError, match='a det config in the seg group'):
        latency.main([
            '--task', 'seg', '--seg-models', UNET, SMCA, '--seg-sizes',
            '32x32', '--out', str(tmp_path / 'x.csv')
        ])


def test_memory_grows_with_size(tmp_path):
    # the tool measures each size in a fresh subprocess of its own (measured
    # in this process, freed memory of earlier tests is reused and the RSS
    # peak of a step does not move)
    out = str(tmp_path / 'memory.csv')
    load_tool('benchmark/memory.py').main([
        '--task', 'seg', '--seg-models', UNET, '--seg-sizes', '32x32',
        '128x128', '--seg-batch', '8', '--steps', '1', '--out', out
    ])
    rows = {row['size']: row for row in _rows(out)}
    assert set(rows) == {'32x32', '128x128'}
    # one model per size group: each row is its group's baseline
    for row in rows.values():
        assert row['batch'] == '8' and float(row['memory_ratio']) == 1.0
    small, big = rows['32x32'], rows['128x128']
    # 16-channel activations of 8 x 128 x 128 images: tens of MB more
    assert float(big['peak_MB']) > float(small['peak_MB']) + 20
    assert float(small['peak_MB']) > 0 and float(small['step_s']) > 0


def test_convergence_summary_finds_iterations_to_detr_final():
    conv = load_tool('benchmark/convergence.py')
    curves = []
    for name, maps in (('DETR', [0.0, 0.0, 0.01, 0.02]),
                       ('Conditional DETR', [0.01, 0.05, 0.10, 0.2]),
                       ('SMCA-DETR', [0.03, 0.08, 0.15, 0.25])):
        curves += [
            dict(model=name, iteration=300 * (i + 1), mAP=m, mAP_50=2 * m)
            for i, m in enumerate(maps)
        ]
    summary = {s['model']: s for s in conv.summarize(curves, iters=1200)}
    assert summary['DETR']['iters_to_detr_final'] == 1200
    assert summary['DETR']['fraction_of_detr_iters'] == 1.0
    assert summary['SMCA-DETR']['iters_to_detr_final'] == 300
    assert summary['SMCA-DETR']['fraction_of_detr_iters'] == 0.25
    assert summary['Conditional DETR']['iters_to_detr_final'] == 600
    assert summary['SMCA-DETR']['half_iteration'] == 600
    assert summary['SMCA-DETR']['mAP_half'] == 0.08
    assert summary['SMCA-DETR']['mAP_final'] == 0.25


def test_convergence_models_share_everything_but_the_method():
    conv = load_tool('benchmark/convergence.py')
    opts = conv.parse_args([]).opts
    assert (opts['iters'], opts['val_interval'], opts['queries']) == (6000,
                                                                      300, 20)
    common = benchmark
    built = {}
    for name in conv.MODELS:
        cfg = Config(dict(default_scope='mmdet',
                          model=conv.model_config(name, opts, 4)))
        built[name] = common.build_model(cfg)
    types = {n: type(m).__name__ for n, m in built.items()}
    assert types == {'DETR': 'DETR', 'Conditional DETR': 'ConditionalDETR',
                     'SMCA-DETR': 'SMCADETR',
                     'SMCA-DETR multi-scale': 'SMCADETRMultiScale'}
    x = torch.zeros(1, 3, 128, 128)
    for model in built.values():
        assert model.num_queries == 20
        assert len(model.encoder.layers) == len(model.decoder.layers) == 3
        # ResNet-18 cut after stage 3: stride 16, 256 channels
        assert model.backbone(x)[-1].shape == (1, 256, 8, 8)
        assert model.bbox_head.num_classes == 4
        ffn = model.decoder.layers[0].ffn.layers[0][0]
        assert ffn.out_features == 1024
    # multi-scale: E16 from the shared backbone, E32 and E64 from the neck's
    # two stride-2 convolutions; intra-scale blocks around a multi-scale one
    ms = built['SMCA-DETR multi-scale']
    assert ms.feat_strides == [16, 32, 64]
    assert [f.shape[-2:] for f in ms.neck(ms.backbone(x))] == [(8, 8), (4, 4),
                                                               (2, 2)]
    assert [type(layer).__name__ for layer in ms.encoder.layers] == [
        'SMCAIntraScaleLayer', 'SMCAMultiScaleLayer', 'SMCAIntraScaleLayer'
    ]
    # --full taps C4 and C5 of the ResNet-50, as the package's COCO config
    full_ms = conv.model_config('SMCA-DETR multi-scale',
                                conv.parse_args(['--full']).opts, 4)
    assert full_ms['backbone']['out_indices'] == (2, 3)
    assert full_ms['neck']['in_channels'] == [1024, 2048]
    assert full_ms['neck']['num_outs'] == 3
    # the GPU preset: the papers' architecture size
    full = conv.parse_args(['--full']).opts
    assert (full['depth'], full['c4'], full['enc_layers'],
            full['queries']) == (50, False, 6, 100)


def test_convergence_smca_prior_starts_at_the_reference_relative_width():
    conv = load_tool('benchmark/convergence.py')
    # reference: beta 8 in cells of a 25-cell COCO short side -> sigma = 2
    # cells = 8 % of the side; the unit is rescaled, beta kept
    for argv, cells in (([], 128 / 16), (['--full'], 512 / 32),
                        (['--size', '256', '--c4', '0'], 256 / 32)):
        opts = conv.parse_args(argv).opts
        layer_cfg = conv.model_config('SMCA-DETR', opts,
                                      3)['decoder']['layer_cfg']
        unit = layer_cfg['prior_unit']
        assert layer_cfg['beta'] == 8.0, argv
        # width in cells: sqrt(beta * unit^2 / 2)
        assert math.sqrt(8.0 * unit**2 / 2) / cells == pytest.approx(0.08)
    assert conv.smca_prior_unit(conv.parse_args([]).opts) == pytest.approx(
        0.32)
    # multi-scale: the finest level (E16) against the reference's 800 / 16 =
    # 50 cells: sigma = 2 cells of 50 = 4 % of the side, at every level
    for argv, unit in (([], 128 / 800), (['--full'], 512 / 800)):
        opts = conv.parse_args(argv).opts
        layer_cfg = conv.model_config('SMCA-DETR multi-scale', opts,
                                      3)['decoder']['layer_cfg']
        assert layer_cfg['prior_unit'] == pytest.approx(unit), argv
        e16_cells = opts['size'] / 16
        assert math.sqrt(8.0 * unit**2 / 2) / e16_cells == pytest.approx(
            0.04)
    # the reference units and another beta, on request
    opts = conv.parse_args(['--smca-prior-unit', '1', '--smca-beta',
                            '2']).opts
    layer_cfg = conv.model_config('SMCA-DETR', opts, 3)['decoder']['layer_cfg']
    assert (layer_cfg['prior_unit'], layer_cfg['beta']) == (1.0, 2.0)
    for flag in ('--smca-beta', '--smca-prior-unit'):
        with pytest.raises(SystemExit):
            conv.parse_args([flag, '0'])


def test_convergence_data_seed_is_not_the_training_seed(tmp_path,
                                                       monkeypatch):
    conv = load_tool('benchmark/convergence.py')
    generator = conv.common.load_tool(
        'dataset_generators/generate_synthetic_shapes.py')
    seeds = []

    class Generated(Exception):
        pass

    def generate(out, **kwargs):
        seeds.append(kwargs['seed'])
        raise Generated

    monkeypatch.setattr(generator, 'generate', generate)
    for argv, seed in (([], 0), (['--seed', '3'], 0),
                       (['--seed', '3', '--data-seed', '1'], 1)):
        with pytest.raises(Generated):
            conv.main(argv + ['--out', str(tmp_path / 'conv')])
        assert seeds[-1] == seed, argv


def test_convergence_refuses_a_data_folder_of_another_recipe(
        tmp_path, capsys):
    conv = load_tool('benchmark/convergence.py')
    root = str(tmp_path / 'data')
    conv.common.load_tool(
        'dataset_generators/generate_synthetic_shapes.py').generate(
            root, num_train=3, num_val=2, size=32, seed=1, num_classes=3,
            objects=(1, 4))
    tiny = ['--size', '32', '--num-train', '3', '--num-val', '2']
    conv.check_data(root, conv.parse_args(tiny).opts, data_seed=1)
    # each mismatch is named with its file and the flag that asks for it
    for argv, seed, message in (
        ([], 0, r'instances_train.json: drawn with seed 1, the recipe asks '
         r'for 0 \(--data-seed\)'),
        (['--num-val', '4'], 1, r'instances_val.json: images 2, the recipe '
         r'asks for 4 \(--num-val\)'),
        (['--size', '48'], 1, r'sizes \[\(32, 32\)\], the recipe asks for '
         r'\[\(48, 48\)\] \(--size\)'),
        (['--max-objects', '6'], 1, r'drawn with objects \[1, 4\], the recipe '
         r'asks for \[1, 6\]'),
    ):
        with pytest.raises(ValueError, match=message):
            conv.check_data(root, conv.parse_args(tiny + argv).opts, seed)
    # a folder drawn before the generator recorded its seed: the rest is
    # still checked, and the run says what it could not check
    for split in ('train', 'val'):
        path = osp.join(root, 'annotations', f'instances_{split}.json')
        with open(path) as f:
            coco = json.load(f)
        del coco['info']['generator']
        with open(path, 'w') as f:
            json.dump(coco, f)
    conv.check_data(root, conv.parse_args(tiny).opts, data_seed=0)
    assert 'does not record its data seed' in capsys.readouterr().out
    with pytest.raises(ValueError, match='--num-classes'):
        conv.check_data(root, conv.parse_args(tiny + ['--num-classes', '4'])
                        .opts, 0)


def _tiny_convergence_argv(out) -> list:
    """convergence.py options for a run of seconds: 32 px, 2+2 images,
    one layer each, validation every iteration."""
    return [
        '--out', str(out), '--size', '32', '--num-train', '2', '--num-val',
        '2', '--val-interval', '1', '--batch', '1', '--enc-layers', '1',
        '--dec-layers', '1', '--ffn', '32', '--queries', '3', '--workers', '0'
    ]


def test_convergence_smoke_run_writes_csv_png_summary(tmp_path):
    conv = load_tool('benchmark/convergence.py')
    out = tmp_path / 'conv'
    tiny = _tiny_convergence_argv(out) + ['--iters', '2']
    # one model per call: the second call keeps the first model's curve
    conv.main(tiny + ['--models', 'DETR'])
    conv.main(tiny + ['--models', 'SMCA-DETR', 'SMCA-DETR multi-scale'])
    curves = _rows(out / 'convergence.csv')
    assert [(r['model'], r['iteration']) for r in curves] == [
        ('DETR', '1'), ('DETR', '2'), ('SMCA-DETR', '1'), ('SMCA-DETR', '2'),
        ('SMCA-DETR multi-scale', '1'), ('SMCA-DETR multi-scale', '2')
    ]
    assert all(0.0 <= float(r['mAP']) <= 1.0 for r in curves)
    assert [r['model'] for r in _rows(out / 'summary.csv')] == [
        'DETR', 'SMCA-DETR', 'SMCA-DETR multi-scale'
    ]
    assert (out / 'convergence.png').read_bytes()[:4] == b'\x89PNG'
    # --plot-only: the same summary and a new PNG from the CSV, no training
    summary = _rows(out / 'summary.csv')
    (out / 'convergence.png').unlink()
    for model in ('detr', 'smca-detr'):
        (out / model).rename(out / f'{model}.moved')  # no run to read
    replotted = conv.main(tiny + ['--plot-only'])
    assert [{k: str(v) for k, v in r.items()} for r in replotted] == summary
    assert (out / 'convergence.png').read_bytes()[:4] == b'\x89PNG'


def test_convergence_resume_continues_and_joins_the_curve(tmp_path):
    conv = load_tool('benchmark/convergence.py')
    out = tmp_path / 'conv'
    tiny = _tiny_convergence_argv(out) + ['--models', 'DETR']
    with pytest.raises(FileNotFoundError, match='--resume: no checkpoint in'):
        conv.main(tiny + ['--iters', '1', '--resume'])
    conv.main(tiny + ['--iters', '2'])
    work_dir = out / 'detr'
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['iter_2.pth']
    first = _rows(out / 'convergence.csv')
    conv.main(tiny + ['--iters', '3', '--resume'])
    curve = _rows(out / 'convergence.csv')
    # iterations 1-2 are the first run's values, 3 is the resumed run's
    assert [r['iteration'] for r in curve] == ['1', '2', '3']
    assert curve[:2] == first
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['iter_3.pth']
    assert len(list(work_dir.glob('*/vis_data/scalars.json'))) == 2


def test_latency_unfused_row_overrides_only_its_model(tmp_path, monkeypatch):
    latency = load_tool('benchmark/latency.py')
    built = []
    build = latency.common.build_model
    monkeypatch.setattr(latency.common, 'build_model',
                        lambda cfg: built.append(build(cfg)) or built[-1])
    args = latency.parse_args(['--runs', '1', '--warmup', '0'])
    rows = latency.benchmark_group(
        'det', [('fused', SMCA), ('unfused', SMCA, latency.UNFUSED)],
        ['64x96'], args)
    from mmcv.cnn.bricks.transformer import MultiheadAttention

    from mmplugin_transfuse.det.models.layers import SDPAMultiheadAttention
    fused, unfused = built
    assert type(fused.decoder.layers[0].cross_attn) is SDPAMultiheadAttention
    assert type(unfused.decoder.layers[0].cross_attn) is MultiheadAttention
    assert type(unfused.encoder.layers[0].self_attn) is MultiheadAttention
    # the SDPA FLOP rule counts what the unfused baddbmm + bmm path counts
    assert rows[0]['GFLOPs'] == pytest.approx(rows[1]['GFLOPs'], rel=1e-6)
    assert rows[0]['params_M'] == rows[1]['params_M']


def test_latency_rows_keeps_named_default_rows_in_order():
    latency = load_tool('benchmark/latency.py')
    args = latency.parse_args(['--rows', ', 100 q', '(mmdet, 100 q)'])
    rows = latency._entries(None, latency.DET_MODELS, args.rows)
    # default order kept: the DETR baseline first, then SMCA at 100 queries
    assert [r[0] for r in rows] == [
        'DETR-R50 (mmdet, 100 q)', 'SMCA-DETR-R50 single-scale, 100 q'
    ]
    assert rows[1][2] == {'model.num_queries': 100}
    assert latency._entries(None, latency.SEG_MODELS, args.rows) == []
    # configs given by path win over the default rows
    assert latency._entries([UNET], latency.SEG_MODELS, args.rows) == [
        (osp.splitext(osp.basename(UNET))[0], UNET)
    ]
    with pytest.raises(ValueError, match='matched no row'):
        latency.main(['--task', 'seg', '--rows', 'no such model'])


def test_latency_amp_and_training_step_rows(tmp_path):
    latency = load_tool('benchmark/latency.py')
    out = str(tmp_path / 'latency.csv')
    latency.main([
        '--task', 'seg', '--seg-models', UNET, '--seg-sizes', '32x32',
        '--runs', '2', '--warmup', '1', '--amp', '--train-step',
        '--no-flops', '--out', out
    ])
    rows = {(r['stage'], r['backend']): r for r in _rows(out)}
    assert list(rows) == [('inference', 'pytorch'), ('inference', 'amp'),
                          ('train', 'pytorch'), ('train', 'amp')]
    for stage in ('inference', 'train'):
        eager, amp = rows[stage, 'pytorch'], rows[stage, 'amp']
        assert float(eager['vs_pytorch']) == 1.0
        assert float(amp['vs_pytorch']) == pytest.approx(
            float(amp['latency_ms']) / float(eager['latency_ms']))
        # each stage is its own baseline
        assert float(eager['latency_ratio']) == 1.0
    # a training step holds a forward, and a backward and an optimizer step
    assert float(rows['train', 'pytorch']['latency_ms']) > float(
        rows['inference', 'pytorch']['latency_ms'])
    args = latency.parse_args(['--compile', '--backends', 'amp'])
    assert args.backends == ['pytorch', 'amp', 'compiled']


def test_train_step_runner_updates_the_copy_only():
    latency = load_tool('benchmark/latency.py')
    common = latency.common
    cfg = common.load_config(UNET)
    model = common.build_model(cfg)
    inputs, samples = common.make_inputs(cfg, 1, 32, 32, with_targets=True)
    before = [p.detach().clone() for p in model.parameters()]
    run = latency.train_step_runner(dict(model=model, cfg=cfg), 'amp',
                                    inputs, samples, 'cpu')
    run()
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    trained = run.__closure__  # the copy the runner trains
    copies = [c.cell_contents for c in trained
              if isinstance(c.cell_contents, torch.nn.Module)]
    assert any(not torch.equal(a, b) for a, b in zip(
        before, copies[0].parameters()))


def test_in_channels_of_reads_the_backbone_and_transfuse_branches():
    from mmplugin_transfuse.utils.benchmark import in_channels_of
    two = osp.join(CONFIG_ROOT, 'transfuse',
                   'transfuse-s_r34-deit-s-2ch_1xb16-5k_prostate-msd-320x320'
                   '.py')
    assert in_channels_of(Config.fromfile(two)) == 2
    assert in_channels_of(Config.fromfile(TRANSFUSE)) == 3
    only_vit = Config(dict(model=dict(backbone=dict(
        cnn=None, global_branch=dict(in_channels=4)))))
    assert in_channels_of(only_vit) == 4
    assert in_channels_of(Config(dict(model=dict(backbone=dict(
        type='ResNet', in_channels=1))))) == 1


def test_benchmark_tools_import_without_sys_path_changes():
    import sys
    before = list(sys.path)
    for tool in ('benchmark/latency.py', 'benchmark/memory.py'):
        load_tool(tool)
    assert sys.path == before

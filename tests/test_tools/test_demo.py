"""`make demo`: the demo configs repeat bit for bit, and its metric table."""
import json
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from tests.conftest import CONFIG_ROOT, REPO_ROOT, load_tool

summarize = load_tool('analysis_tools/summarize_runs.py')
convergence = load_tool('benchmark/convergence.py')


def _config(*parts):
    return osp.join(CONFIG_ROOT, *parts)


# (model, baseline) per pair, as tools/demo.sh runs them
SEG_PAIR = (_config(
    'transfuse', 'transfuse-s_r34-deit-s_1xb4-100_synthetic-polyp-128x128.py'),
            _config('baselines',
                    'unet-s5-d16-c16_fcn_1xb4-100_synthetic-polyp-128x128.py'))
DET_PAIR = (_config('smca_detr',
                    'smca-detr_r18_1xb8-200_synthetic-shapes-128x128.py'),
            _config('baselines',
                    'detr_r18_1xb8-200_synthetic-shapes-128x128.py'))
SEG_PAIR_FULL = (
    _config('transfuse',
            'transfuse-s_r34-deit-s_1xb8-200_synthetic-polyp-128x128.py'),
    _config('baselines',
            'unet-s5-d16-c16_fcn_1xb8-200_synthetic-polyp-128x128.py'))
DET_PAIR_FULL = (_config(
    'smca_detr', 'smca-detr_r18_1xb8-1500_synthetic-shapes-128x128.py'),
                 _config('baselines',
                         'detr_r18_1xb8-1500_synthetic-shapes-128x128.py'))
# what a run is, apart from the model: both of a pair must agree on these
RUN_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader',
            'val_evaluator', 'test_evaluator', 'train_cfg', 'optim_wrapper',
            'param_scheduler', 'randomness')


def _demo_sh():
    return open(osp.join(REPO_ROOT, 'tools', 'demo.sh')).read()


def _demo_sh_configs(full: bool):
    """{variable: config path} that tools/demo.sh picks by default."""
    block = re.search(
        r'if \[\[ "\$\{DEMO_FULL:-0\}" == 1 \]\]; then\n'
        r'(.*?)\nelse\n(.*?)\nfi\n', _demo_sh(), re.S)
    defaults = re.findall(r'(\w+)=\$\{\w+-([^}]+)\}',
                          block.group(1 if full else 2))
    return {k: osp.join(REPO_ROOT, p) for k, p in defaults}


@pytest.mark.parametrize('full', [False, True])
def test_demo_sh_runs_the_seeded_pairs(full):
    seg, det = (SEG_PAIR_FULL, DET_PAIR_FULL) if full else (SEG_PAIR, DET_PAIR)
    assert _demo_sh_configs(full) == dict(SEG_CONFIG=seg[0],
                                          SEG_BASELINE=seg[1],
                                          DET_CONFIG=det[0],
                                          DET_BASELINE=det[1])
    for path in seg + det:
        cfg = Config.fromfile(path)
        assert cfg.randomness == dict(seed=0, deterministic=True), path


@pytest.mark.parametrize('full', [False, True])
def test_each_pair_shares_data_budget_and_seed(full):
    for (model, baseline), budget in (((SEG_PAIR_FULL, (200, 8)) if full else
                                       (SEG_PAIR, (100, 4))),
                                      ((DET_PAIR_FULL, (1500, 8)) if full else
                                       (DET_PAIR, (200, 8)))):
        a, b = Config.fromfile(model), Config.fromfile(baseline)
        for key in RUN_KEYS:
            assert a[key] == b[key], (model, baseline, key)
        assert (a.train_cfg.max_iters,
                a.train_dataloader.batch_size) == budget, model
        # validations to draw the curves with
        assert a.train_cfg.max_iters // a.train_cfg.val_interval >= 2
        assert a.model != b.model


def test_full_demo_trains_the_quick_models_longer():
    for quick, full in zip(SEG_PAIR + DET_PAIR, SEG_PAIR_FULL + DET_PAIR_FULL):
        q, f = Config.fromfile(quick), Config.fromfile(full)
        assert q.model == f.model and q.optim_wrapper == f.optim_wrapper
        assert (f.train_cfg.max_iters * f.train_dataloader.batch_size
                > q.train_cfg.max_iters * q.train_dataloader.batch_size)


def test_detection_pair_is_the_convergence_study_recipe():
    """SMCA-DETR and DETR as tools/benchmark/convergence.py builds them on
    its CPU preset (same backbone, layers, queries; SMCA's prior in the
    study's unit, cells / 25), its data set, optimiser and schedule."""
    opts = dict(convergence.CPU_PRESET, smca_prior_unit=None)
    smca, detr = (Config.fromfile(p) for p in DET_PAIR)
    assert smca.model.to_dict() == convergence.model_config(
        'SMCA-DETR', opts, opts['num_classes'])
    assert detr.model.to_dict() == convergence.model_config(
        'DETR', opts, opts['num_classes'])
    # 128 px / stride 16 = 8 cells; the reference's 1 cell is 25 / 8 wider
    assert smca.model.decoder.layer_cfg.prior_unit == pytest.approx(8 / 25)
    study = convergence.run_config('SMCA-DETR', opts,
                                   'data/synthetic_shapes_128', 'work_dirs/x',
                                   0, 'cpu')
    assert smca.optim_wrapper == study.optim_wrapper
    assert smca.param_scheduler == study.param_scheduler == []
    assert smca.train_cfg.type == study.train_cfg.type
    for loader in ('train_dataloader', 'val_dataloader'):
        ours, theirs = smca[loader], study[loader]
        assert ours.batch_size == theirs.batch_size
        assert ours.sampler == theirs.sampler
        assert ours.dataset.data_root == theirs.dataset.data_root
        assert ours.dataset.pipeline == theirs.dataset.pipeline
        assert (ours.dataset.metainfo['classes'] ==
                theirs.dataset.metainfo['classes'])
    assert smca.val_evaluator.ann_file == study.val_evaluator.ann_file
    # demo.sh draws the study's set into that folder
    command = re.search(r'generate_synthetic_shapes\.py((?:.*\\\n)*.*\n)',
                        _demo_sh()).group(1)
    gen = command.replace('\\\n', ' ').split()
    args = dict(zip(gen[::2], gen[1::2]))
    assert args['--out'] + '/' == smca.train_dataloader.dataset.data_root
    assert (int(args['--num-train']), int(args['--num-val']),
            int(args['--size']),
            int(args['--num-classes'])) == (opts['num_train'], opts['num_val'],
                                            opts['size'], opts['num_classes'])
    objects = gen[gen.index('--objects') + 1:gen.index('--objects') + 3]
    assert [int(x)
            for x in objects] == [opts['min_objects'], opts['max_objects']]


def _start(config, work_dir, options):
    """tools/train.py in a fresh interpreter, its output to a file."""
    env = dict(os.environ,
               PYTHONPATH=REPO_ROOT,
               OMP_NUM_THREADS='1',
               MKL_NUM_THREADS='1')
    cmd = [
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'train.py'), config, '--work-dir',
        work_dir, '--cfg-options'
    ] + options
    os.makedirs(work_dir)
    log = open(osp.join(work_dir, 'console.txt'), 'w+')
    return subprocess.Popen(cmd,
                            cwd=REPO_ROOT,
                            env=env,
                            stdout=log,
                            stderr=subprocess.STDOUT), log


def _wait(run):
    """Wait for a run of ``_start``; its output on failure."""
    proc, log = run
    returncode = proc.wait(timeout=900)
    with log:
        log.seek(0)
        assert returncode == 0, log.read()[-6000:]


def _scalars(work_dir):
    """The logged scalars of the run in ``work_dir``, minus timings."""
    (scalars, ) = [
        osp.join(dp, 'scalars.json') for dp, _, files in os.walk(work_dir)
        if 'scalars.json' in files
    ]
    lines = [json.loads(line) for line in open(scalars) if line.strip()]
    # wall-clock fields differ between runs; everything else must not
    return [{
        k: v
        for k, v in line.items()
        if k not in ('time', 'data_time', 'eta', 'memory')
    } for line in lines]


def _train_in_process(config, work_dir, options):
    """tools/train.py's main() in this interpreter, on one thread like the
    fresh one; the global switches a seeded deterministic run sets are
    restored afterwards for the tests that follow. The visualizer gets a
    name of its own: mmengine keeps one instance per name and process, and
    an earlier test's instance would write this run's scalars into that
    test's folder."""
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    try:
        load_tool('train.py').main(
            [config, '--work-dir', work_dir, '--cfg-options'] + options +
            [f'visualizer.name=repeat_{work_dir}'])
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)


def _assert_repeatable(config, tmp_path, options, metric):
    # a fresh interpreter and this one (which imported and ran other tests
    # before) train side by side, each on one thread: equal floats show the
    # run depends on nothing but the config and its seed
    work_a, work_b = str(tmp_path / 'a'), str(tmp_path / 'b')
    run_a = _start(config, work_a, options)
    try:
        _train_in_process(config, work_b, options)
        _wait(run_a)
    finally:
        run_a[0].kill()  # a no-op for a process that has exited
    a, b = _scalars(work_a), _scalars(work_b)
    assert any('loss' in line for line in a), a
    assert any(metric in line for line in a), a
    assert a == b


def test_transfuse_demo_repeats_bit_for_bit(tmp_path, synthetic_polyp_root):
    # two dataloader workers (seeded per worker), random flips and photometric
    # distortion, dropout, a validation: two fresh processes log equal floats
    root = synthetic_polyp_root
    _assert_repeatable(SEG_PAIR[0], tmp_path, [
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        'train_dataloader.batch_size=2', 'train_cfg.max_iters=3',
        'train_cfg.val_interval=3', 'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=1000',
        'default_hooks.checkpoint.save_last=False'
    ], 'mDice')


def test_smca_demo_repeats_bit_for_bit(tmp_path, synthetic_shapes_root):
    root = synthetic_shapes_root + '/'
    ann = root + 'annotations/instances_val.json'
    _assert_repeatable(DET_PAIR[0], tmp_path, [
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        f'val_evaluator.ann_file={ann}', f'test_evaluator.ann_file={ann}',
        'train_dataloader.batch_size=4', 'train_cfg.max_iters=2',
        'train_cfg.val_interval=2', 'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=1000',
        'default_hooks.checkpoint.save_last=False'
    ], 'coco/bbox_mAP')


def _write_run(folder, lines):
    os.makedirs(folder, exist_ok=True)
    with open(osp.join(folder, 'scalars.json'), 'w') as f:
        f.writelines(json.dumps(line) + '\n' for line in lines)


def test_summary_table_shows_first_validation_next_to_test(tmp_path):
    seg, det = str(tmp_path / 'seg'), str(tmp_path / 'det')
    _write_run(osp.join(seg, '20260101_000000', 'vis_data'), [
        dict(loss=1.2, iter=10, step=10),
        dict(mDice=55.0, mIoU=40.0, data_time=0.1, time=0.2, step=25),
        dict(mDice=70.0, mIoU=60.0, step=50),
    ])
    _write_run(osp.join(det, '20260101_000000', 'vis_data'), [
        dict(loss=9.0, epoch=1, iter=10, step=10),
        {
            'coco/bbox_mAP': 0.01,
            'step': 2
        },
    ])
    os.makedirs(osp.join(seg, 'test', '20260101_000100'))
    with open(osp.join(seg, 'test', '20260101_000100', 'x.json'), 'w') as f:
        f.write(json.dumps(dict(mDice=80.5, mIoU=71.25, time=3.0)) + '\n')
    os.makedirs(osp.join(det, 'test', '20260101_000100'))
    with open(osp.join(det, 'test', '20260101_000100', 'x.json'), 'w') as f:
        f.write(json.dumps({'coco/bbox_mAP': 0.25, 'step': 0}) + '\n')
    rows = summarize.summary_rows([seg + '/test', det + '/test'], [seg, det])
    assert rows == [
        ['run', 'metric', 'first val', 'at', 'final test'],
        [seg + '/test', 'mDice', '55.0000', 'iter 25', '80.5000'],
        [seg + '/test', 'mIoU', '40.0000', 'iter 25', '71.2500'],
        [det + '/test', 'coco/bbox_mAP', '0.0100', 'epoch 2', '0.2500'],
    ]
    table = summarize.format_table(rows).splitlines()
    assert len(table) == 5 and set(table[1]) <= {'-', '+'}

    with pytest.raises(ValueError, match='one training work dir per run'):
        summarize.summary_rows([seg + '/test', det + '/test'], [seg])
    nothing = str(tmp_path / 'no_val')
    _write_run(osp.join(nothing, 't', 'vis_data'), [dict(loss=1.0, step=1)])
    with pytest.raises(ValueError, match='holds no validation'):
        summarize.summary_rows([seg + '/test'], [nothing])
    with pytest.raises(FileNotFoundError, match='no training log'):
        summarize.summary_rows([seg + '/test'], [str(tmp_path / 'none')])


def _write_training(train_dir, iters, val, test):
    """A training work dir as mmengine leaves it: ``vis_data/scalars.json``
    with ``iters`` training records and the ``val`` validations
    (``[(iteration, {metric: value})]``), and the final ``test`` metrics in
    ``test/<timestamp>/<timestamp>.json``."""
    lines = [dict(loss=1.0 / i, iter=i, step=i) for i in range(1, iters + 1)]
    for it, metrics in val:
        lines.insert(it, dict(metrics, data_time=0.1, time=0.2, step=it))
    _write_run(osp.join(train_dir, '20260101_000000', 'vis_data'), lines)
    test_dir = osp.join(train_dir, 'test', '20260101_000100')
    os.makedirs(test_dir)
    with open(osp.join(test_dir, '20260101_000100.json'), 'w') as f:
        f.write(json.dumps(dict(test, data_time=0.1, time=0.3)) + '\n')


def _demo_runs(tmp_path):
    mdice = 'per_image/mDice'
    runs = dict(transfuse=(4, [(2, {
        'mDice': 60.0,
        mdice: 0.5
    }), (4, {
        'mDice': 70.0,
        mdice: 0.6
    })], {
        'mDice': 81.25,
        mdice: 0.7,
        'mIoU': 70.0
    }),
                unet=(4, [(2, {
                    'mDice': 65.0,
                    mdice: 0.55
                }), (4, {
                    'mDice': 72.0,
                    mdice: 0.6
                })], {
                    'mDice': 83.5,
                    mdice: 0.7,
                    'mIoU': 71.0
                }),
                smca=(6, [(3, {
                    'coco/bbox_mAP': 0.02
                }), (6, {
                    'coco/bbox_mAP': 0.05
                })], {
                    'coco/bbox_mAP': 0.05,
                    'coco/bbox_mAP_50': 0.151
                }),
                detr=(3, [(3, {
                    'coco/bbox_mAP': 0.0
                })], {
                    'coco/bbox_mAP': 0.0,
                    'coco/bbox_mAP_50': 0.002
                }))
    for name, (iters, val, test) in runs.items():
        _write_training(str(tmp_path / name), iters, val, test)
    return [
        summarize.Pair('TransFuse-S', str(tmp_path / 'transfuse'), 'UNet',
                       str(tmp_path / 'unet'), ['mDice', mdice]),
        summarize.Pair('SMCA-DETR', str(tmp_path / 'smca'), 'DETR',
                       str(tmp_path / 'detr'),
                       ['coco/bbox_mAP', 'coco/bbox_mAP_50']),
    ]


def test_comparison_table_from_scalars_files(tmp_path):
    pairs = _demo_runs(tmp_path)
    rows = summarize.compare_rows(pairs)
    assert rows == [
        [
            'model', 'baseline', 'metric (final test)', 'model value',
            'baseline value', 'difference', 'ahead', 'iterations'
        ],
        # a baseline ahead is named as such
        [
            'TransFuse-S', 'UNet', 'mDice', '81.2500', '83.5000', '-2.2500',
            'UNet', '4'
        ],
        [
            'TransFuse-S', 'UNet', 'per_image/mDice', '0.7000', '0.7000',
            '+0.0000', 'tie', '4'
        ],
        # trainings of other lengths show both counts
        [
            'SMCA-DETR', 'DETR', 'coco/bbox_mAP', '0.0500', '0.0000',
            '+0.0500', 'SMCA-DETR', '6 / 3'
        ],
        [
            'SMCA-DETR', 'DETR', 'coco/bbox_mAP_50', '0.1510', '0.0020',
            '+0.1490', 'SMCA-DETR', '6 / 3'
        ],
    ]
    assert summarize.val_curve(pairs[1].model_dir,
                               'coco/bbox_mAP') == [(3, 0.02), (6, 0.05)]
    assert summarize.trained_iterations(pairs[0].baseline_dir) == 4

    missing = pairs[0]._replace(metrics=['mAcc'])
    with pytest.raises(KeyError, match=r"no metric 'mAcc'.*'mIoU'"):
        summarize.compare_rows([missing])
    with pytest.raises(ValueError, match='METRICS is empty'):
        summarize.parse_pair(['A', 'a', 'B', 'b', ','])


def test_curves_png_and_cli(tmp_path, capsys):
    pairs = _demo_runs(tmp_path)
    png = str(tmp_path / 'out' / 'curves.png')
    argv = []
    for p in pairs:
        argv += [
            '--pair', p.model, p.model_dir, p.baseline, p.baseline_dir,
            ','.join(p.metrics)
        ]
    summarize.main(argv + ['--plot', png])
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split(' | ')[0].strip() == 'model'
    assert set(printed[1]) <= {'-', '+'} and len(printed) == 2 + 4 + 1
    assert printed[-1] == f'validation curves: {png}'
    with open(png, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    from PIL import Image
    image = Image.open(png).convert('RGB')
    # one 5 x 3.6 inch panel per pair at 100 dpi
    assert image.size == (1000, 360)
    # both panels hold drawn curves, not a blank canvas
    for box in ((0, 0, 500, 360), (500, 0, 1000, 360)):
        assert len(image.crop(box).getcolors(1 << 16)) > 20

    with pytest.raises(SystemExit):
        summarize.main(['--plot', png, str(tmp_path)])
    with pytest.raises(SystemExit):
        summarize.main(argv + [str(tmp_path)])

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

SEG_DEMO = osp.join(
    CONFIG_ROOT, 'transfuse',
    'transfuse-s_r34-deit-s_1xb4-100_synthetic-polyp-128x128.py')
DET_DEMO = osp.join(CONFIG_ROOT, 'smca_detr',
                    'smca-detr_r18_1xb4-10e_synthetic-shapes-160x160.py')
SEG_FULL = osp.join(
    CONFIG_ROOT, 'transfuse',
    'transfuse-s_r34-deit-s_1xb8-200_synthetic-polyp-128x128.py')
DET_FULL = osp.join(CONFIG_ROOT, 'smca_detr',
                    'smca-detr_r18_1xb8-36e_synthetic-shapes-160x160.py')


def _demo_sh_configs(full: bool):
    """(seg, det) config paths that tools/demo.sh picks by default."""
    text = open(osp.join(REPO_ROOT, 'tools', 'demo.sh')).read()
    block = re.search(r'if \[\[ "\$\{DEMO_FULL:-0\}" == 1 \]\]; then\n'
                      r'(.*?)\nelse\n(.*?)\nfi\n', text, re.S)
    defaults = re.findall(r'CONFIG=\$\{\w+-([^}]+)\}',
                          block.group(1 if full else 2))
    return [osp.join(REPO_ROOT, p) for p in defaults]


@pytest.mark.parametrize('full', [False, True])
def test_demo_sh_runs_the_seeded_configs(full):
    seg, det = _demo_sh_configs(full)
    assert (seg, det) == ((SEG_FULL, DET_FULL) if full else
                          (SEG_DEMO, DET_DEMO))
    for path in (seg, det):
        cfg = Config.fromfile(path)
        assert cfg.randomness == dict(seed=0, deterministic=True), path


def test_quick_demo_is_a_cut_of_the_full_schedule():
    seg, det = Config.fromfile(SEG_DEMO), Config.fromfile(DET_DEMO)
    seg_full, det_full = Config.fromfile(SEG_FULL), Config.fromfile(DET_FULL)
    # the same models, trained on fewer images
    assert seg.model == seg_full.model and det.model == det_full.model
    assert seg.optim_wrapper == seg_full.optim_wrapper
    assert seg.train_cfg.max_iters * seg.train_dataloader.batch_size == 400
    assert det.train_cfg.max_epochs == 10
    assert det.train_dataloader.batch_size == 4
    # an early validation to compare the final test with
    assert seg.train_cfg.val_interval < seg.train_cfg.max_iters
    assert det.train_cfg.val_interval < det.train_cfg.max_epochs


def _start(config, work_dir, options):
    """tools/train.py in a fresh interpreter, its output to a file."""
    env = dict(os.environ, PYTHONPATH=REPO_ROOT, OMP_NUM_THREADS='1',
               MKL_NUM_THREADS='1')
    cmd = [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'), config,
           '--work-dir', work_dir, '--cfg-options'] + options
    os.makedirs(work_dir)
    log = open(osp.join(work_dir, 'console.txt'), 'w+')
    return subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log,
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
    return [{k: v for k, v in line.items()
             if k not in ('time', 'data_time', 'eta', 'memory')}
            for line in lines]


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
    _assert_repeatable(SEG_DEMO, tmp_path, [
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
    _assert_repeatable(DET_DEMO, tmp_path, [
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        f'val_evaluator.ann_file={ann}', f'test_evaluator.ann_file={ann}',
        'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
        'default_hooks.logger.interval=1',
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
        {'coco/bbox_mAP': 0.01, 'step': 2},
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

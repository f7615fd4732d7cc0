"""The stock OpenMMLab tools on this package's synthetic configs.

mmdet's ``get_flops.py``, ``benchmark.py``, ``analyze_logs.py`` and
``browse_dataset.py`` run unchanged from mmdet's installed ``.mim/tools``
(in this process, through ``runpy``, with the plugin importable); the
slurm scripts run against a fake ``srun``; the demo script drives
``DetInferencer`` / ``MMSegInferencer`` and writes PNGs.
"""
import glob
import json
import os
import os.path as osp
import runpy
import shutil
import subprocess
import sys
import types

import numpy as np
import pytest
import torch
from mmengine.config import Config

from tests.conftest import CONFIG_ROOT, REPO_ROOT, load_tool

MMDET_TOOLS = osp.join(
    osp.dirname(__import__('mmdet').__file__), '.mim', 'tools')
SMCA_CFG = osp.join(CONFIG_ROOT, 'smca_detr',
                    'smca-detr_r18_1xb8-36e_synthetic-shapes-160x160.py')
SEG_CFG = osp.join(
    CONFIG_ROOT, 'transfuse',
    'transfuse-s_r34-deit-s_1xb8-200_synthetic-polyp-128x128.py')


def _det_overrides(root: str) -> dict:
    """Config overrides pointing the SMCA demo config at a small data set."""
    root = root.rstrip('/') + '/'
    out = {f'{d}.dataset.data_root': root
           for d in ('train_dataloader', 'val_dataloader', 'test_dataloader')}
    out['val_evaluator.ann_file'] = root + 'annotations/instances_val.json'
    for d in ('train_dataloader', 'val_dataloader'):
        out[f'{d}.num_workers'] = 0
        out[f'{d}.persistent_workers'] = False
    return out


def _det_options(root: str) -> list:
    """The same as ``--cfg-options`` arguments."""
    return [f'{k}={v}' for k, v in _det_overrides(root).items()]


def _run_script(path: str, argv: list, monkeypatch) -> None:
    monkeypatch.setattr(sys, 'argv', [path] + argv)
    runpy.run_path(path, run_name='__main__')


# ----------------------------------------------------------------- slurm


@pytest.mark.parametrize('script,last', [('slurm_train.sh', 'WORK'),
                                         ('slurm_test.sh', 'CKPT')])
def test_slurm_scripts_call_srun_like_mmdet(script, last, tmp_path):
    fake = tmp_path / 'bin'
    fake.mkdir()
    (fake / 'srun').write_text('#!/bin/sh\nprintf "%s\\n" "$@" > '
                               f'{tmp_path}/srun_args\n')
    (fake / 'srun').chmod(0o755)
    ckpt = tmp_path / 'model.pth'
    ckpt.write_bytes(b'x')
    fourth = str(tmp_path / 'wd') if last == 'WORK' else str(ckpt)
    env = dict(os.environ, PATH=f'{fake}:{os.environ["PATH"]}', GPUS='16',
               GPUS_PER_NODE='8', SRUN_ARGS='--quotatype=auto')
    subprocess.run([
        'bash', osp.join(REPO_ROOT, 'tools', script), 'part', 'job',
        SMCA_CFG, fourth, '--cfg-options', 'a=1'
    ], env=env, check=True, capture_output=True)
    args = (tmp_path / 'srun_args').read_text().split('\n')[:-1]
    assert args[:2] == ['-p', 'part']
    for expected in ('--job-name=job', '--gres=gpu:8', '--ntasks=16',
                     '--ntasks-per-node=8', '--cpus-per-task=5',
                     '--kill-on-bad-exit=1', '--quotatype=auto'):
        assert expected in args
    tool = 'train.py' if last == 'WORK' else 'test.py'
    i = args.index(osp.join(REPO_ROOT, 'tools', tool))
    assert args[i - 1] == '-u'
    assert args[i + 1] == SMCA_CFG
    if last == 'WORK':
        assert args[i + 2] == f'--work-dir={fourth}'
    else:
        assert args[i + 2] == fourth
    assert args[-3:] == ['--launcher=slurm', '--cfg-options', 'a=1']


def test_slurm_train_names_a_missing_config(tmp_path):
    proc = subprocess.run([
        'bash', osp.join(REPO_ROOT, 'tools', 'slurm_train.sh'), 'p', 'j',
        str(tmp_path / 'nope.py'), 'wd'
    ], capture_output=True, text=True)
    assert proc.returncode == 2
    assert 'config file not found' in proc.stderr and 'nope.py' in \
        proc.stderr


# ------------------------------------------------------------- mmdet tools


def test_mmdet_get_flops_on_smca_config(synthetic_shapes_root, monkeypatch,
                                        capsys):
    from mmdet.registry import MODELS
    from mmengine.analysis.print_helper import _format_size
    from mmengine.registry import init_default_scope
    _run_script(
        osp.join(MMDET_TOOLS, 'analysis_tools', 'get_flops.py'),
        [SMCA_CFG, '--num-images', '1', '--cfg-options'] +
        _det_options(synthetic_shapes_root), monkeypatch)
    out = capsys.readouterr().out
    init_default_scope('mmdet')
    params = sum(p.numel()
                 for p in MODELS.build(Config.fromfile(SMCA_CFG).model)
                 .parameters())
    assert f'Params: {_format_size(params)}' in out
    # the 96x96 images are resized to the config's 160x160
    assert 'Input shape: (160, 160)' in out
    flops = out.split('Flops: ')[1].split('\n')[0]
    assert float(flops.rstrip('GMK')) > 0


# mmdet.utils.benchmark needs psutil at import (its type hints use it),
# which neither mmdet nor mmengine declare as a dependency
@pytest.mark.parametrize('task', ['dataset', 'dataloader'])
def test_mmdet_benchmark_on_smca_config(task, synthetic_shapes_root,
                                        tmp_path, monkeypatch):
    pytest.importorskip('psutil')
    # benchmark.py asks MMLogger.get_instance('mmdet', log_file=...): an
    # instance of that name made by an earlier run in this process (the
    # other task) is returned as it is, still writing to that run's file
    from mmengine.logging import MMLogger
    monkeypatch.delitem(MMLogger._instance_dict, 'mmdet', raising=False)
    _run_script(
        osp.join(MMDET_TOOLS, 'analysis_tools', 'benchmark.py'), [
            SMCA_CFG, '--task', task, '--max-iter', '3', '--num-warmup',
            '1', '--log-interval', '1', '--work-dir',
            str(tmp_path), '--cfg-options'
        ] + _det_options(synthetic_shapes_root) +
        # 4 test images (--dataset-type test): one per batch, so 3 timed batches exist (with
        # fewer, mmdet's dataloader benchmark divides by a zero fps)
        ['test_dataloader.batch_size=1', 'test_dataloader.num_workers=0',
         'test_dataloader.persistent_workers=False'], monkeypatch)
    log = (tmp_path / 'benchmark.log').read_text()
    assert 'Overall fps' in log


@pytest.mark.skipif(not torch.cuda.is_available(),
                    reason="mmdet's inference benchmark calls model.cuda()")
def test_mmdet_inference_benchmark_on_gpu(trained_smca, synthetic_shapes_root,
                                          tmp_path, monkeypatch):
    pytest.importorskip('psutil')
    _, ckpt = trained_smca
    _run_script(
        osp.join(MMDET_TOOLS, 'analysis_tools', 'benchmark.py'), [
            SMCA_CFG, '--checkpoint', ckpt, '--task', 'inference',
            '--max-iter', '3', '--num-warmup', '1', '--log-interval', '1',
            '--work-dir', str(tmp_path), '--cfg-options'
        ] + _det_options(synthetic_shapes_root), monkeypatch)
    assert 'Overall fps' in (tmp_path / 'benchmark.log').read_text()


def test_mmdet_browse_dataset_on_smca_config(synthetic_shapes_root,
                                             tmp_path, monkeypatch):
    out = tmp_path / 'vis'
    _run_script(
        osp.join(MMDET_TOOLS, 'analysis_tools', 'browse_dataset.py'),
        [SMCA_CFG, '--output-dir', str(out), '--not-show', '--cfg-options'] +
        _det_options(synthetic_shapes_root), monkeypatch)
    written = sorted(os.listdir(out))
    # one image per training sample (8), at the pipeline's 160x160
    assert len(written) == 8
    import mmcv
    assert mmcv.imread(str(out / written[0])).shape == (160, 160, 3)


@pytest.fixture(scope='module')
def trained_smca(synthetic_shapes_root, tmp_path_factory):
    """One epoch (2 iterations + validation) of the SMCA demo config:
    ``(log dir, checkpoint)``."""
    from mmengine.runner import Runner
    cfg = Config.fromfile(SMCA_CFG)
    cfg.merge_from_dict(_det_overrides(synthetic_shapes_root))
    cfg.train_dataloader.batch_size = 4
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1,
                         val_interval=1)
    cfg.param_scheduler = []
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = 1
    cfg.visualizer.name = 'stock_tools_smca'
    cfg.work_dir = str(tmp_path_factory.mktemp('smca_run'))
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner.log_dir, osp.join(cfg.work_dir, 'epoch_1.pth')


def test_analyze_logs_plot_curve_from_training_log(trained_smca, tmp_path,
                                                   monkeypatch):
    log_dir, _ = trained_smca
    json_log = glob.glob(osp.join(log_dir, 'vis_data', '2*.json'))
    assert len(json_log) == 1
    lines = [json.loads(line) for line in open(json_log[0])]
    assert sum('loss' in r for r in lines) == 2  # 2 logged iterations
    try:
        import seaborn  # noqa: F401
    except ImportError:
        # mmdet's script imports seaborn only for `sns.set_style`; it is
        # not a dependency of mmdet/mmseg (nor installed here)
        monkeypatch.setitem(sys.modules, 'seaborn',
                            types.SimpleNamespace(set_style=lambda s: None))
    for key in ('loss', 'bbox_mAP'):
        out = tmp_path / f'{key}.png'
        _run_script(
            osp.join(MMDET_TOOLS, 'analysis_tools', 'analyze_logs.py'), [
                'plot_curve', json_log[0], '--keys', key, '--out',
                str(out), '--backend', 'Agg'
            ], monkeypatch)
        assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


# ------------------------------------------------ demo script / inferencers


def test_demo_script_det_one_image(trained_smca, synthetic_shapes_root,
                                   tmp_path):
    _, ckpt = trained_smca
    demo = load_tool('demo/image_demo.py')
    image = sorted(glob.glob(osp.join(synthetic_shapes_root, 'val',
                                      '*.jpg')))[0]
    written = demo.run(image, SMCA_CFG, ckpt, str(tmp_path / 'vis'),
                       score_thr=0.0)
    name = osp.splitext(osp.basename(image))[0] + '.png'
    assert written == [str(tmp_path / 'vis' / name)]
    import mmcv
    vis = mmcv.imread(written[0])
    src = mmcv.imread(image)
    assert vis.shape == src.shape
    # score_thr 0: every query's box is drawn, so the image changed
    assert np.abs(vis.astype(int) - src.astype(int)).max() > 50


def test_demo_script_seg_folder(synthetic_polyp_root, tmp_path):
    from mmseg.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    # the demo's folder handling does not depend on the depth: one ViT block
    cfg = Config.fromfile(SEG_CFG)
    cfg.model.backbone.global_branch.depth = 1
    config = str(tmp_path / 'seg_depth1.py')
    cfg.dump(config)
    model = MODELS.build(cfg.model)
    ckpt = str(tmp_path / 'seg.pth')
    torch.save(
        dict(state_dict=model.state_dict(),
             meta=dict(dataset_meta=dict(
                 classes=('background', 'polyp'),
                 palette=[[0, 0, 0], [255, 0, 0]]))), ckpt)
    # a folder of three images (each one is a full forward pass on CPU)
    src = osp.join(synthetic_polyp_root, 'images')
    images = sorted(f for f in os.listdir(src) if f.endswith('.jpg'))[:3]
    folder = tmp_path / 'images'
    folder.mkdir()
    for name in images:
        shutil.copy(osp.join(src, name), folder / name)
    demo = load_tool('demo/image_demo.py')
    demo.main([str(folder), config, ckpt, '--out-dir', str(tmp_path / 'vis')])
    written = sorted(os.listdir(tmp_path / 'vis'))
    assert written == sorted(osp.splitext(f)[0] + '.png' for f in images)
    import mmcv
    assert mmcv.imread(str(tmp_path / 'vis' / written[0])).shape == (64, 64,
                                                                     3)


def test_demo_script_errors_name_the_input(tmp_path):
    demo = load_tool('demo/image_demo.py')
    with pytest.raises(FileNotFoundError, match='nothing.jpg'):
        demo.run(str(tmp_path / 'nothing.jpg'), SMCA_CFG, 'x.pth',
                 str(tmp_path))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='no image'):
        demo.run(str(tmp_path / 'empty'), SMCA_CFG, 'x.pth', str(tmp_path))
    img = tmp_path / 'a.png'
    img.write_bytes(b'')
    with pytest.raises(FileNotFoundError, match='checkpoint file not found'):
        demo.run(str(img), SMCA_CFG, str(tmp_path / 'none.pth'),
                 str(tmp_path))


# ----------------------------------------------------------- FLOPs tool


def test_get_flops_matches_transfuse_tool_and_takes_unet():
    from mmplugin_transfuse.utils.flops import get_complexity
    # the TransFuse-only tool counts the same model identically
    params, flops = load_tool(
        'analysis_tools/transfuse_params_flops.py').complexity(
            SEG_CFG, (64, 64))
    result = get_complexity(SEG_CFG, (64, ))
    assert (result['params'], result['flops']) == (params, flops)
    assert result['shape'] == (3, 64, 64)
    # any mmseg config: the stock UNet baseline; a fully convolutional
    # model costs exactly 4x the FLOPs at twice the side
    unet = osp.join(CONFIG_ROOT, 'baselines',
                    'unet-s5-d16-c16_fcn_1xb4-600it_synthetic-polyp-'
                    '128x128.py')
    small = get_complexity(unet, (32, 32))
    big = get_complexity(unet, (64, 64))
    assert big['flops'] == 4 * small['flops'] > 0
    assert big['params'] == small['params']

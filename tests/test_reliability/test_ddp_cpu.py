"""2-process DDP on CPU (gloo) through tools/dist_train.sh and dist_test.sh.

Each launch takes ~15-30 s on 2 cores (two interpreters import
mmseg/mmdet); the training run is shared by both tests.
"""
import os
import os.path as osp
import pickle
import re
import socket
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import CONFIG_ROOT, REPO_ROOT, load_tool

UNET = osp.join(CONFIG_ROOT, 'baselines',
                'unet-s5-d16-c16_fcn_1xb4-600it_synthetic-polyp-128x128.py')


def free_port() -> str:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def run(cmd, **env):
    env = dict(os.environ, PYTHON=sys.executable, PORT=free_port(),
               OMP_NUM_THREADS='1', **env)
    out = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True,
                         text=True, timeout=300)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-4000:]
    return log


def data_opts(root: str, stages=('train', 'val', 'test')):
    opts = []
    for stage in stages:
        opts += [
            f'{stage}_dataloader.dataset.data_root={root}',
            f'{stage}_dataloader.num_workers=0',
            f'{stage}_dataloader.persistent_workers=False'
        ]
    return opts


@pytest.fixture(scope='module')
def ddp_run(tmp_path_factory):
    """UNet trained 4 iterations by 2 gloo processes; 5 val images so the
    2-process evaluation needs mmengine's padding + trimming."""
    root = str(tmp_path_factory.mktemp('polyp_ddp'))
    load_tool('dataset_generators/generate_synthetic_polyp.py').generate(
        root, num_train=8, num_val=5, size=(64, 64), seed=0)
    work = str(tmp_path_factory.mktemp('ddp_work'))
    log = run(['bash', 'tools/dist_train.sh', UNET, '2', '--work-dir', work,
               '--cfg-options'] + data_opts(root) + [
                   'train_dataloader.batch_size=2', 'train_cfg.max_iters=4',
                   'train_cfg.val_interval=1000',
                   'default_hooks.checkpoint.interval=4',
                   'default_hooks.logger.interval=1'
               ])
    return root, work, log


def test_dist_train_two_processes_gloo(ddp_run):
    _, work, log = ddp_run
    assert 'Distributed training: True' in log
    assert 'GPU number: 2' in log  # mmengine's name for the world size
    assert "dist_cfg=dict(backend='gloo')" in log
    assert 'Iter(train) [4/4]' in log
    assert osp.isfile(osp.join(work, 'iter_4.pth'))
    with open(osp.join(work, 'last_checkpoint')) as f:
        assert f.read().strip().endswith('iter_4.pth')


def metrics(log: str) -> dict:
    line = [x for x in log.splitlines() if 'Iter(test)' in x and 'mIoU' in x]
    assert line, log[-3000:]
    return {k: float(v) for k, v in re.findall(r'(\w+): ([\d.]+)', line[-1])
            if k in ('aAcc', 'mIoU', 'mAcc', 'mDice')}


def test_dist_test_matches_single_process(ddp_run, tmp_path):
    root, work, _ = ddp_run
    ckpt = osp.join(work, 'iter_4.pth')
    opts = ['--cfg-options'] + data_opts(root, ('test', ))
    one = run([sys.executable, 'tools/test.py', UNET, ckpt, '--work-dir',
               str(tmp_path / 'one'), '--out', str(tmp_path / 'one.pkl')] +
              opts)
    two = run(['bash', 'tools/dist_test.sh', UNET, ckpt, '2', '--work-dir',
               str(tmp_path / 'two'), '--out', str(tmp_path / 'two.pkl')] +
              opts)
    assert 'Distributed training: True' in two
    m1, m2 = metrics(one), metrics(two)
    assert set(m1) == {'aAcc', 'mIoU', 'mAcc', 'mDice'}
    assert m1 == m2
    # same predictions, same order, nothing duplicated by the padding
    with open(tmp_path / 'one.pkl', 'rb') as f:
        p1 = pickle.load(f)
    with open(tmp_path / 'two.pkl', 'rb') as f:
        p2 = pickle.load(f)
    assert len(p1) == len(p2) == 5
    for a, b in zip(p1, p2):
        assert a['img_path'] == b['img_path']
        np.testing.assert_array_equal(
            np.asarray(a['pred_sem_seg']['data']),
            np.asarray(b['pred_sem_seg']['data']))


def test_dist_train_transfuse_and_smca_synthetic(tmp_path,
                                                 synthetic_shapes_root):
    """The two demo models train with 2 gloo processes (2 iterations of
    TransFuse-S, 1 short epoch of SMCA-DETR) and write a checkpoint."""
    polyp = str(tmp_path / 'polyp')
    load_tool('dataset_generators/generate_synthetic_polyp.py').generate(
        polyp, num_train=4, num_val=2, size=(64, 64), seed=0)
    seg = os.path.join(
        CONFIG_ROOT, 'transfuse',
        'transfuse-s_r34-deit-s_1xb8-200_synthetic-polyp-128x128.py')
    log = run(['bash', 'tools/dist_train.sh', seg, '2', '--work-dir',
               str(tmp_path / 'seg'), '--cfg-options'] + data_opts(polyp) + [
                   'train_dataloader.batch_size=2', 'train_cfg.max_iters=2',
                   'train_cfg.val_interval=1000',
                   'default_hooks.checkpoint.interval=2',
                   'default_hooks.logger.interval=1'
               ])
    assert 'Distributed training: True' in log
    assert 'Iter(train) [2/2]' in log
    assert osp.isfile(osp.join(tmp_path, 'seg', 'iter_2.pth'))

    det = os.path.join(
        CONFIG_ROOT, 'smca_detr',
        'smca-detr_r18_1xb8-36e_synthetic-shapes-160x160.py')
    ann = osp.join(synthetic_shapes_root, 'annotations')
    log = run(['bash', 'tools/dist_train.sh', det, '2', '--work-dir',
               str(tmp_path / 'det'), '--cfg-options'] +
              data_opts(synthetic_shapes_root + '/') + [
                  f'val_evaluator.ann_file={ann}/instances_val.json',
                  f'test_evaluator.ann_file={ann}/instances_val.json',
                  'train_dataloader.batch_size=2', 'train_cfg.max_epochs=1',
                  'train_cfg.val_interval=1',
                  'default_hooks.logger.interval=1'
              ])
    assert 'Distributed training: True' in log
    assert 'coco/bbox_mAP' in log  # 2-process CocoMetric evaluation ran
    assert osp.isfile(osp.join(tmp_path, 'det', 'epoch_1.pth'))

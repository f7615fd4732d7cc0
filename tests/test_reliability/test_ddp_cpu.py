"""2-process DDP on CPU (gloo) through tools/dist_train.sh and dist_test.sh,
with one image per process (how SMCA's multi-scale model was trained, 8
GPUs x 1 image), and two torchrun agents as two nodes.

Every launch starts interpreters that import torch and mmseg/mmdet, so the
launches are few and the model tiny: TransFuse-S with 1 ViT block on 32x32
images, one 2-process training whose checkpoint and log serve the two-node
and the dist_test comparisons, all in one test (pytest-xdist hands the
tests of a module to different workers, so a fixture shared by several
tests could train once per worker). SMCA-DETR's 2-process training and
CocoMetric evaluation run in test_preemption_processes.py (the resumed run
of its signal test).
"""
import glob
import os
import os.path as osp
import pickle
import re
import socket
import subprocess
import sys

import numpy as np
import torch
from mmengine.config import Config

from tests.conftest import CONFIG_ROOT, REPO_ROOT, load_tool

TRANSFUSE = osp.join(
    CONFIG_ROOT, 'transfuse',
    'transfuse-s_r34-deit-s_1xb8-200_synthetic-polyp-128x128.py')
SMCA = osp.join(CONFIG_ROOT, 'smca_detr',
                'smca-detr_r18_1xb8-36e_synthetic-shapes-160x160.py')


def free_port() -> str:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def run(cmd, **env):
    # the tools import the package of this checkout, not an installed copy
    path = os.pathsep.join(p for p in (REPO_ROOT, os.environ.get('PYTHONPATH'))
                           if p)
    env = dict(os.environ, PYTHON=sys.executable, PORT=free_port(),
               OMP_NUM_THREADS='1', PYTHONPATH=path, **env)
    out = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True,
                         text=True, timeout=300)
    # both ends on failure: the runner's last log line (stdout) tells where
    # a process died, stderr how
    assert out.returncode == 0, (
        f'exit code {out.returncode}\n--- end of stdout ---\n'
        f'{out.stdout[-2500:]}\n--- end of stderr ---\n{out.stderr[-2500:]}')
    return out.stdout + out.stderr


def tiny_config(src: str, dst: str, root: str, size: int, **changes) -> str:
    """``src`` with its data under ``root``, images resized to
    ``size x size``, one image per process, no dataloader workers, and the
    BatchNorm preflight check; written to ``dst``."""
    cfg = Config.fromfile(src)
    for stage in ('train', 'val', 'test'):
        loader = cfg[f'{stage}_dataloader']
        loader.update(num_workers=0, persistent_workers=False)
        loader.dataset.data_root = root
        for step in loader.dataset.pipeline:
            if step['type'] == 'Resize':
                step['scale'] = (size, size)
    cfg.train_dataloader.batch_size = 1
    cfg.custom_hooks = [
        dict(type='NonFiniteLossHook'),
        dict(type='BatchNormPreflightHook'),
        dict(type='PreemptionCheckpointHook')
    ]
    cfg.default_hooks.logger.interval = 1
    cfg.merge_from_dict(changes)
    cfg.dump(dst)
    return dst


def _val_metrics(text: str) -> dict:
    (line, ) = [x for x in text.splitlines()
                if 'Iter(val) [3/3]' in x and 'mDice' in x]
    found = dict(re.findall(r'(\w+): ([\d.]+)', line))
    return {k: found[k] for k in ('aAcc', 'mIoU', 'mAcc', 'mDice')}


def _test_metrics(log: str) -> dict:
    line = [x for x in log.splitlines() if 'Iter(test)' in x and 'mIoU' in x]
    assert line, log[-3000:]
    return {k: float(v) for k, v in re.findall(r'(\w+): ([\d.]+)', line[-1])
            if k in ('aAcc', 'mIoU', 'mAcc', 'mDice')}


def test_transfuse_two_processes_two_nodes_and_dist_test(tmp_path):
    """TransFuse-S trained 3 iterations by 2 gloo processes, 1 image each,
    then validated on 5 images (the 2-process evaluation needs mmengine's
    padding + trimming). Then, from that run:

    * two torchrun agents (NNODES=2, node ranks 0 and 1, one process each,
      MASTER_ADDR=127.0.0.1) through tools/dist_train.sh train the same
      weights and give the same validation metrics (same seed, same total
      batch of 2);
    * tools/dist_test.sh in 2 processes gives the metrics and the
      predictions (same order, none duplicated by the padding) of
      tools/test.py in one.
    """
    root = str(tmp_path / 'polyp')
    load_tool('dataset_generators/generate_synthetic_polyp.py').generate(
        root, num_train=4, num_val=5, size=(32, 32), seed=0)
    work = str(tmp_path / 'ddp_work')
    os.makedirs(work)
    config = tiny_config(
        TRANSFUSE, osp.join(work, 'transfuse_tiny.py'), root, 32,
        **{'model.backbone.global_branch.depth': 1,
           'train_cfg.max_iters': 3, 'train_cfg.val_interval': 3,
           'default_hooks.checkpoint.interval': 3,
           'randomness.seed': 0})
    log = run(['bash', 'tools/dist_train.sh', config, '2', '--work-dir',
               work])
    assert 'Distributed training: True' in log
    assert 'GPU number: 2' in log  # mmengine's name for the world size
    assert "dist_cfg=dict(backend='gloo')" in log
    assert Config.fromfile(config).train_dataloader.batch_size == 1
    assert 'Iter(train) [3/3]' in log
    assert re.search(r'Iter\(val\) \[3/3\].*mDice', log)  # 5 images / 2
    ckpt = osp.join(work, 'iter_3.pth')
    with open(osp.join(work, 'last_checkpoint')) as f:
        assert f.read().strip() == ckpt

    # two nodes
    nodes_work = str(tmp_path / 'nodes')
    path = os.pathsep.join(p for p in (REPO_ROOT, os.environ.get('PYTHONPATH'))
                           if p)
    env = dict(os.environ, PYTHON=sys.executable, PORT=free_port(),
               OMP_NUM_THREADS='1', PYTHONPATH=path, NNODES='2',
               MASTER_ADDR='127.0.0.1')
    cmd = ['bash', 'tools/dist_train.sh', config, '1', '--work-dir',
           nodes_work]
    agents = [
        subprocess.Popen(cmd, cwd=REPO_ROOT, env=dict(env, NODE_RANK=str(r)),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True) for r in (0, 1)
    ]
    outs = [a.communicate(timeout=300)[0] for a in agents]
    for a, out in zip(agents, outs):
        assert a.returncode == 0, out[-3000:]
    assert 'GPU number: 2' in outs[0]  # world size 2 over the two agents
    one = torch.load(ckpt, weights_only=True)
    two = torch.load(osp.join(nodes_work, 'iter_3.pth'), weights_only=True)
    for k, v in one['state_dict'].items():
        torch.testing.assert_close(two['state_dict'][k], v, msg=k)
    assert _val_metrics(outs[0]) == _val_metrics(log)

    # dist_test.sh against tools/test.py in this interpreter, on one thread
    # like the launched processes (OMP_NUM_THREADS=1)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        load_tool('test.py').main([
            config, ckpt, '--work-dir', str(tmp_path / 'one'), '--out',
            str(tmp_path / 'one.pkl')
        ])
    finally:
        torch.set_num_threads(threads)
    (log_file, ) = glob.glob(str(tmp_path / 'one' / '*' / '*.log'))
    with open(log_file) as f:
        single = f.read()
    dist = run(['bash', 'tools/dist_test.sh', config, ckpt, '2',
                '--work-dir', str(tmp_path / 'two'), '--out',
                str(tmp_path / 'two.pkl')])
    assert 'Distributed training: True' in dist
    m1, m2 = _test_metrics(single), _test_metrics(dist)
    assert set(m1) == {'aAcc', 'mIoU', 'mAcc', 'mDice'}
    assert m1 == m2
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

"""Resume on torch >= 2.6 (weights_only=True): in-process and after SIGKILL."""
import glob
import os.path as osp
import re
import signal
import subprocess
import sys
import time

import torch
from mmengine.config import Config
from mmengine.runner import Runner

from tests.conftest import CONFIG_ROOT, REPO_ROOT, load_tool

UNET = osp.join(CONFIG_ROOT, 'baselines',
                'unet-s5-d16-c16_fcn_1xb4-600it_synthetic-polyp-128x128.py')
# Deterministic pipeline: RNG states of transforms are not checkpointed, so a
# resumed run only repeats an uninterrupted one bit for bit without them.
PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='BinarizeMask', threshold=128),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='PackSegInputs')
]


def _cfg(data_root: str, work_dir: str, max_iters: int, name: str) -> Config:
    cfg = Config.fromfile(UNET)
    cfg.work_dir = work_dir
    cfg.experiment_name = name
    cfg.randomness = dict(seed=0, deterministic=True)
    cfg.train_dataloader.update(
        batch_size=4, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.sampler = dict(type='InfiniteSampler', shuffle=True)
    cfg.train_dataloader.dataset.update(
        data_root=data_root, pipeline=PIPELINE)
    cfg.model.decode_head.dropout_ratio = 0.0  # dropout RNG is not saved
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.test_dataloader = cfg.test_cfg = cfg.test_evaluator = None
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', by_epoch=False, interval=2)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.default_hooks.visualization = dict(type='SegVisualizationHook')
    return cfg


def test_resume_matches_uninterrupted_run(tmp_path, synthetic_polyp_root):
    full = Runner.from_cfg(
        _cfg(synthetic_polyp_root, str(tmp_path / 'full'), 4, 'resume_full'))
    full.train()
    full_state = {k: v.clone() for k, v in full.model.state_dict().items()}

    part = Runner.from_cfg(
        _cfg(synthetic_polyp_root, str(tmp_path / 'part'), 2, 'resume_a'))
    part.train()
    ckpt = torch.load(tmp_path / 'part' / 'iter_2.pth', weights_only=True)
    assert ckpt['meta']['iter'] == 2

    cfg = _cfg(synthetic_polyp_root, str(tmp_path / 'part'), 4, 'resume_b')
    cfg.resume = True  # picks iter_2.pth from work_dir/last_checkpoint
    resumed = Runner.from_cfg(cfg)
    resumed.train()
    assert resumed.iter == 4
    lr = resumed.optim_wrapper.get_lr()['lr'][0]
    assert lr == full.optim_wrapper.get_lr()['lr'][0]
    # Adam state (step count) came back with the weights
    steps = [s['step'] for s in resumed.optim_wrapper.optimizer.state.values()]
    assert all(int(s) == 4 for s in steps)
    for k, v in resumed.model.state_dict().items():
        torch.testing.assert_close(v, full_state[k], rtol=1e-5, atol=1e-6,
                                   msg=f'{k} differs after resume')


def test_train_py_resumes_a_killed_run(tmp_path, synthetic_polyp_root):
    """SIGKILL tools/train.py mid-run, then --resume continues from the
    last checkpoint with the same iteration counter."""
    work = tmp_path / 'killed'
    opts = [
        f'train_dataloader.dataset.data_root={synthetic_polyp_root}',
        f'val_dataloader.dataset.data_root={synthetic_polyp_root}',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
        'train_dataloader.batch_size=2', 'train_cfg.val_interval=1000',
        'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1'
    ]
    cmd = [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'), UNET,
           '--work-dir', str(work)]
    proc = subprocess.Popen(
        cmd + ['--cfg-options', 'train_cfg.max_iters=100000'] + opts,
        cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    try:
        while not (work / 'iter_4.pth').exists():
            assert proc.poll() is None, 'training exited before the kill'
            assert time.time() < deadline, 'no checkpoint within 240 s'
            time.sleep(0.2)
        time.sleep(0.5)  # let the checkpoint write finish
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    last = open(work / 'last_checkpoint').read().strip()
    last_iter = torch.load(last, weights_only=True)['meta']['iter']
    assert last_iter >= 4
    # the resume runs tools/train.py in this interpreter (the kill above
    # needed a process of its own; a second one would only repeat the
    # torch/mmseg import)
    before = set(glob.glob(str(work / '*' / '*.log')))
    load_tool('train.py').main(
        [UNET, '--work-dir', str(work), '--resume', '--cfg-options',
         f'train_cfg.max_iters={last_iter + 2}'] + opts)
    (log_file, ) = set(glob.glob(str(work / '*' / '*.log'))) - before
    with open(log_file) as f:
        log = f.read()
    assert 'resumed' in log.lower() and f'iter_{last_iter}.pth' in log
    # mmengine pads the counter to the width of max_iters: '[ 9/10]'
    pattern = rf'Iter\(train\) \[\s*{last_iter + 1}/{last_iter + 2}\]'
    assert re.search(pattern, log), log[-2000:]
    final = torch.load(work / f'iter_{last_iter + 2}.pth', weights_only=True)
    assert final['meta']['iter'] == last_iter + 2

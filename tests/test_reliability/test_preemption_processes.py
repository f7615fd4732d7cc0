"""Real signals to training processes, and resume from what they wrote.

Each launch imports torch + mmseg/mmdet in fresh interpreters, so one launch
checks several properties, and the stopped runs are launched by the
OpenMMLab libraries' own train.py, as ``mim train`` runs it:

* TransFuse-S, one process: mmseg's train.py with ``--launcher none`` (the
  command of ``mim train mmseg CONFIG``) gets two SIGTERMs; then, in this
  interpreter, tools/train.py ``--resume`` with an SMCA-DETR checkpoint as
  the newest file of the work dir (it falls back to the stop's checkpoint).
* SMCA-DETR, two gloo processes: mmdet's train.py under
  ``torch.distributed.run`` (the command of ``mim train mmdet CONFIG
  --launcher pytorch``) gets SIGUSR1 on rank 1 only, mid-epoch; then
  tools/dist_train.sh ``--resume`` trains the rest of the epoch in two
  processes and evaluates with the 2-process CocoMetric.
* The toy run in a one-process gloo group gets torchrun's SIGTERM while its
  interpreter exits after the stop (deterministic: the moment the race in
  the two-process launch can hit).

(One test per launch: pytest-xdist hands the tests of a module to
different workers, so a fixture shared by several tests could launch once
per worker.)
"""
import os
import os.path as osp
import re
import signal
import subprocess
import sys
import time

import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import MODELS, init_default_scope

from tests.conftest import REPO_ROOT, load_tool
from tests.test_reliability.test_ddp_cpu import (SMCA, TRANSFUSE, free_port,
                                                 run, tiny_config)

MMSEG_TRAIN = osp.join(
    osp.dirname(__import__('mmseg').__file__), '.mim', 'tools', 'train.py')
MMDET_TRAIN = osp.join(
    osp.dirname(__import__('mmdet').__file__), '.mim', 'tools', 'train.py')


def _env(**extra) -> dict:
    path = os.pathsep.join(p for p in (REPO_ROOT, os.environ.get('PYTHONPATH'))
                           if p)
    return dict(os.environ, PYTHON=sys.executable, PORT=free_port(),
                OMP_NUM_THREADS='1', PYTHONPATH=path, **extra)


def _wait_for(proc, out_file, pattern: str, timeout: float = 240) -> str:
    deadline = time.time() + timeout
    while True:
        text = open(out_file, errors='replace').read()
        if re.search(pattern, text):
            return text
        assert proc.poll() is None, f'exited before {pattern!r}:\n' + \
            text[-3000:]
        assert time.time() < deadline, f'no {pattern!r} in {timeout} s'
        time.sleep(0.2)


def _children(pid: int) -> list:
    with open(f'/proc/{pid}/task/{pid}/children') as f:
        return [int(p) for p in f.read().split()]


def _rank_of(pid: int) -> int:
    with open(f'/proc/{pid}/environ', 'rb') as f:
        env = dict(kv.split(b'=', 1) for kv in f.read().split(b'\0')
                   if b'=' in kv)
    return int(env[b'RANK'])


def _smca_checkpoint(path: str) -> None:
    """An SMCA-DETR training checkpoint in mmengine's layout (for a
    TransFuse-S work dir: the checkpoint of another model)."""
    cfg = Config.fromfile(SMCA)
    cfg.model.decoder.num_layers = 1
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    torch.save(dict(meta=dict(epoch=1, iter=3), state_dict=model.state_dict(),
                    optimizer=dict(state={}, param_groups=[])), path)


def test_sigterm_one_process_then_resume_past_a_broken_checkpoint(tmp_path):
    """Two SIGTERMs (the second while stopping) to mmseg's train.py: exit
    status 75, a complete iter_N.pth named by last_checkpoint, ``scontrol
    requeue $SLURM_JOB_ID`` called once. Then an SMCA-DETR checkpoint
    iter_{N+1}.pth, named by last_checkpoint, is the newest file:
    tools/train.py --resume names it and why, falls back to iter_N.pth and
    goes on at iteration N+1 with the optimizer and schedule of the stop;
    its checkpoint replaces the broken file."""
    root = str(tmp_path / 'data')
    load_tool('dataset_generators/generate_synthetic_polyp.py').generate(
        root, num_train=4, num_val=2, size=(32, 32), seed=0)
    work = str(tmp_path / 'work')
    config = tiny_config(
        TRANSFUSE, str(tmp_path / 'transfuse_tiny.py'), root, 32,
        **{'model.backbone.global_branch.depth': 1,
           'train_cfg.max_iters': 100000, 'train_cfg.val_interval': 100000,
           'default_hooks.checkpoint.interval': 100000})
    fake_bin = tmp_path / 'bin'
    fake_bin.mkdir()
    calls = tmp_path / 'scontrol_calls'
    (fake_bin / 'scontrol').write_text(
        f'#!/bin/sh\necho "$@" >> {calls}\n')
    (fake_bin / 'scontrol').chmod(0o755)
    out_file = tmp_path / 'out.txt'
    with open(out_file, 'w') as out:
        proc = subprocess.Popen(
            [sys.executable, MMSEG_TRAIN, config, '--launcher', 'none',
             '--work-dir', work, '--cfg-options',
             'custom_hooks.2.requeue=True'],
            cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT,
            env=_env(SLURM_JOB_ID='4242',
                     PATH=f'{fake_bin}{os.pathsep}{os.environ["PATH"]}'))
        try:
            _wait_for(proc, out_file, r'Iter\(train\)\s+\[\s*2/')
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.05)
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
    text = open(out_file).read()
    assert rc == 75, text[-3000:]
    m = re.search(r'stopped after iteration (\d+); checkpoint (\S+)', text)
    assert m, text[-3000:]
    done, path = int(m.group(1)), m.group(2)
    assert done >= 2 and path == osp.join(work, f'iter_{done}.pth')
    assert open(osp.join(work, 'last_checkpoint')).read() == path
    ckpt = torch.load(path, weights_only=True)
    assert ckpt['meta']['iter'] == done
    assert 'optimizer' in ckpt and 'param_schedulers' in ckpt
    assert open(calls).read().split() == ['requeue', '4242']

    broken = osp.join(work, f'iter_{done + 1}.pth')
    _smca_checkpoint(broken)
    with open(osp.join(work, 'last_checkpoint'), 'w') as f:
        f.write(broken)
    load_tool('train.py').main([
        config, '--work-dir', work, '--resume', '--cfg-options',
        f'train_cfg.max_iters={done + 1}'
    ])
    logger = MMLogger.get_current_instance()
    log = open(logger.handlers[-1].baseFilename).read()
    assert f'Resume: {broken} holds the weights of another model' in log
    assert (f'Resuming from the newest valid checkpoint {path} instead'
            in log)
    assert f'resumed epoch: 0, iter: {done}' in log
    final = torch.load(broken, weights_only=True)  # atomic, replaced
    assert final['meta']['iter'] == done + 1
    # the optimizer (Adam: its step count) and the schedule went on from
    # the checkpoint instead of starting again
    steps = {int(s['step']) for s in final['optimizer']['state'].values()}
    assert steps == {done + 1}
    assert final['param_schedulers'][0]['last_step'] == \
        ckpt['param_schedulers'][0]['last_step'] + 1


def test_sigusr1_to_one_rank_stops_both_mid_epoch_and_resumes(
        tmp_path, synthetic_shapes_root):
    """SMCA-DETR, 2 gloo processes x 1 image, 8 images: 4 iterations per
    epoch. SIGUSR1 to rank 1 only: both ranks stop after the same
    iteration k (exit status 75 each), rank 0 writes iter_k.pth; the
    2-process ``--resume`` trains batches k+1..4 of epoch 1 only, writes
    epoch_1.pth and runs the 2-process CocoMetric evaluation."""
    ann = osp.join(synthetic_shapes_root, 'annotations')
    config = tiny_config(
        SMCA, str(tmp_path / 'smca_tiny.py'), synthetic_shapes_root + '/',
        64, **{
            'model.decoder.num_layers': 1,
            'train_dataloader.dataset.indices': 8,
            'val_evaluator.ann_file': f'{ann}/instances_val.json',
            'test_evaluator.ann_file': f'{ann}/instances_val.json',
            'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 1
        })
    work = str(tmp_path / 'det')
    out_file = tmp_path / 'out.txt'
    env = _env()
    cmd = [sys.executable, '-m', 'torch.distributed.run',
           '--nproc_per_node=2', f'--master_port={env["PORT"]}',
           MMDET_TRAIN, config, '--launcher', 'pytorch', '--work-dir', work]
    with open(out_file, 'w') as out:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=out,
                                stderr=subprocess.STDOUT, env=env)
        try:
            # 8 images / 2 processes / 1 image: 4 iterations an epoch
            _wait_for(proc, out_file, r'Epoch\(train\)\s+\[1\]\[1/4\]')
            # torch.distributed.run's children are the workers
            (rank1, ) = [p for p in _children(proc.pid) if _rank_of(p) == 1]
            os.kill(rank1, signal.SIGUSR1)
            proc.wait(timeout=180)
        finally:
            if proc.poll() is None:
                proc.kill()
    text = open(out_file).read()
    assert "dist_cfg=dict(backend='gloo')" in text
    # torchrun's failure report lists each worker's exit status
    statuses = dict(re.findall(
        r'rank\s*:\s*(\d+) \(local_rank: \d+\)\s*exitcode\s*:\s*(-?\d+)',
        text))
    assert statuses == {'0': '75', '1': '75'}, text[-3000:]
    m = re.search(r'a signal to another rank received; stopping after '
                  r'iteration (\d+) \(epoch 1, batch (\d+)/4\)', text)
    assert m, text[-3000:]  # rank 0 logs; it got no signal itself
    k = int(m.group(1))
    assert k == int(m.group(2)) and 1 <= k <= 4
    ckpt = torch.load(osp.join(work, f'iter_{k}.pth'), weights_only=True)
    assert (ckpt['meta']['epoch'], ckpt['meta']['iter']) == (0, k)
    assert ckpt['message_hub']['runtime_info']['preempted_in_epoch'] == \
        dict(epoch=0, batches=k)

    log = run(['bash', 'tools/dist_train.sh', config, '2', '--work-dir', work,
               '--resume'])
    assert 'Distributed training: True' in log
    assert f'resuming epoch 1 at batch {k + 1}/4' in log
    trained = re.findall(r'Epoch\(train\)\s+\[1\]\[\s*(\d+)/(\d+)\]', log)
    assert len(trained) == 4 - k and all(int(n) == 4 - k
                                         for _, n in trained)
    final = torch.load(osp.join(work, 'epoch_1.pth'), weights_only=True)
    assert (final['meta']['epoch'], final['meta']['iter']) == (1, 4)
    assert re.search(r'Epoch\(val\).*coco/bbox_mAP', log)  # 2 processes


CHILD = '''
import sys, time
import torch.distributed as dist
from tests.test_reliability.test_preemption import SignalAt, runner


class SlowTeardown:
    """Deleted with __main__'s globals, late in the interpreter's exit."""

    def __del__(self):
        print('teardown', flush=True)
        time.sleep(3)


slow = SlowTeardown()
dist.init_process_group('gloo', init_method='tcp://127.0.0.1:' + sys.argv[2],
                        rank=0, world_size=1)
runner(sys.argv[1], False, [SignalAt(2)]).train()
'''


def test_distributed_stop_survives_sigterm_while_the_interpreter_exits(
        tmp_path):
    """torchrun sends SIGTERM to the other ranks as soon as one rank has
    exited; a rank that stopped with its checkpoint can get it while the
    interpreter tears down its modules (Python-level handlers are reset to
    the default by then) and must still exit 75, not -15."""
    env = _env()
    proc = subprocess.Popen(
        [sys.executable, '-c', CHILD, str(tmp_path), env['PORT']],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    out = []
    try:
        for line in proc.stdout:
            out.append(line)
            if line.strip() == 'teardown':
                os.kill(proc.pid, signal.SIGTERM)
                break
        rc = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = ''.join(out)
    assert 'stopped after iteration 2; checkpoint' in text, text[-3000:]
    assert rc == 75, text[-3000:]
    # written by this test's child: its message hub may be unpickled
    assert torch.load(tmp_path / 'iter_2.pth',
                      weights_only=False)['meta']['iter'] == 2

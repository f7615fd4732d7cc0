"""A crash while a checkpoint is written never breaks ``--resume``."""
import os
import os.path as osp

import pytest
import torch
from mmengine.fileio import LocalBackend

from mmplugin_transfuse.engine.hooks import atomic_checkpoint_hook
from tests.test_reliability.toy import toy_runner


class SimulatedCrash(RuntimeError):
    pass


def crash_while_writing(monkeypatch, name: str) -> None:
    """Make the write of a checkpoint whose path contains ``name`` stop
    half-way, as a SIGKILL/full disk during ``f.write`` would."""
    real_put = LocalBackend.put

    def put(self, obj, filepath):
        if name in osp.basename(str(filepath)):
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
            raise SimulatedCrash(f'killed while writing {filepath}')
        return real_put(self, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', put)


def last_checkpoint(work_dir) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def ckpt_hook(hook_type: str) -> dict:
    return dict(type=hook_type, by_epoch=False, interval=2, max_keep_ckpts=1)


def test_crash_during_save_keeps_previous_checkpoint(tmp_path, monkeypatch):
    work = str(tmp_path / 'atomic')
    crash_while_writing(monkeypatch, 'iter_4')
    with pytest.raises(SimulatedCrash):
        toy_runner(work, 6, checkpoint=ckpt_hook('AtomicCheckpointHook')
                   ).train()
    # the resume target is still the complete iter_2 checkpoint ...
    last = last_checkpoint(work)
    assert last == osp.join(work, 'iter_2.pth')
    ckpt = torch.load(last, weights_only=True)
    assert ckpt['meta']['iter'] == 2 and 'optimizer' in ckpt
    # ... no truncated iter_4.pth exists, only a hidden temporary file
    assert not osp.exists(osp.join(work, 'iter_4.pth'))
    leftovers = [f for f in os.listdir(work) if '.tmp-' in f]
    assert leftovers and all(f.startswith('.iter_4.pth') for f in leftovers)

    monkeypatch.undo()
    resumed = toy_runner(work, 6, checkpoint=ckpt_hook('AtomicCheckpointHook'),
                         resume=True)
    resumed.train()
    assert resumed.iter == 6
    assert last_checkpoint(work) == osp.join(work, 'iter_6.pth')
    assert torch.load(last_checkpoint(work),
                      weights_only=True)['meta']['iter'] == 6
    # the stale temporary file was cleaned up, max_keep_ckpts=1 honoured
    assert sorted(f for f in os.listdir(work) if 'iter_' in f) == [
        'iter_6.pth'
    ]


def test_stock_checkpoint_hook_loses_the_run(tmp_path, monkeypatch):
    """Control: mmengine's CheckpointHook deletes iter_2 before writing
    iter_4, so the same crash leaves last_checkpoint naming a missing file
    next to a truncated iter_4.pth (what AtomicCheckpointHook prevents)."""
    work = str(tmp_path / 'stock')
    crash_while_writing(monkeypatch, 'iter_4')
    with pytest.raises(SimulatedCrash):
        toy_runner(work, 6, checkpoint=ckpt_hook('CheckpointHook')).train()
    assert not osp.exists(last_checkpoint(work))
    with pytest.raises(Exception):
        torch.load(osp.join(work, 'iter_4.pth'), weights_only=True)


def test_crash_while_updating_last_checkpoint(tmp_path, monkeypatch):
    """A crash between writing iter_4.pth and replacing last_checkpoint
    leaves the old (complete) target and deletes nothing."""
    work = str(tmp_path / 'pointer')
    real_replace = os.replace

    def replace(src, dst):
        if (osp.basename(dst) == 'last_checkpoint'
                and open(src).read().endswith('iter_4.pth')):
            raise SimulatedCrash('killed before the rename')
        return real_replace(src, dst)

    monkeypatch.setattr(atomic_checkpoint_hook.os, 'replace', replace)
    with pytest.raises(SimulatedCrash):
        toy_runner(work, 6, checkpoint=ckpt_hook('AtomicCheckpointHook')
                   ).train()
    assert last_checkpoint(work) == osp.join(work, 'iter_2.pth')
    assert torch.load(osp.join(work, 'iter_2.pth'),
                      weights_only=True)['meta']['iter'] == 2
    assert torch.load(osp.join(work, 'iter_4.pth'),
                      weights_only=True)['meta']['iter'] == 4

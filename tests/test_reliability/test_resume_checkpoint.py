"""Resume when the newest checkpoint is broken: CheckedRunner names the file
and the reason and falls back to the newest valid one; an explicit broken
``--resume PATH`` is an error naming it.

With the toy model (milliseconds): truncated, empty and random files as the
newest checkpoint, an empty ``last_checkpoint``, an explicit broken
checkpoint and a work dir of broken files. The checkpoint of another model
(SMCA-DETR's in a TransFuse-S work dir) through tools/train.py is in
test_preemption_processes.py (resuming the run stopped by SIGTERM).
"""
import os
import os.path as osp
import uuid

import pytest
import torch

from mmplugin_transfuse.engine.runner import (BrokenCheckpointError,
                                              CheckedRunner,
                                              checkpoint_problem)

from .toy import ToyModel, toy_dataset


def _break(kind: str, src: str, dst: str) -> None:
    if kind == 'truncated':
        data = open(src, 'rb').read()
        data = data[:len(data) // 2]
    elif kind == 'zero bytes':
        data = b''
    elif kind == 'random bytes':
        data = os.urandom(4096)
    with open(dst, 'wb') as f:
        f.write(data)


REASONS = {
    'truncated': 'cannot be read as a checkpoint',
    'zero bytes': 'is empty (0 bytes)',
    'random bytes': 'cannot be read as a checkpoint (4096 bytes',
}


def toy_checked_runner(work_dir: str, max_iters: int, load_from=None,
                       resume: bool = False) -> CheckedRunner:
    torch.manual_seed(0)
    return CheckedRunner(
        model=ToyModel(),
        work_dir=work_dir,
        experiment_name=f'toy_{uuid.uuid4().hex}',
        train_dataloader=dict(
            dataset=toy_dataset(),
            sampler=dict(type='InfiniteSampler', shuffle=False),
            collate_fn=dict(type='default_collate'),
            batch_size=2,
            num_workers=0),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05)),
        default_hooks=dict(
            checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False,
                            interval=1, max_keep_ckpts=-1)),
        load_from=load_from,
        resume=resume)


@pytest.fixture
def toy_work(tmp_path):
    """iter_1.pth, iter_2.pth, iter_3.pth of the toy model."""
    work = str(tmp_path / 'toy')
    toy_checked_runner(work, 3).train()
    return work


def _log(runner) -> str:
    return open(runner.logger.handlers[-1].baseFilename).read()


@pytest.mark.parametrize('kind', ['truncated', 'zero bytes', 'random bytes'])
def test_toy_auto_resume_falls_back(toy_work, kind):
    newest = osp.join(toy_work, 'iter_3.pth')
    _break(kind, newest, newest)
    runner = toy_checked_runner(toy_work, 4, resume=True)
    runner.train()
    log = _log(runner)
    assert f'Resume: {newest} {REASONS[kind]}' in log
    valid = osp.join(toy_work, 'iter_2.pth')
    assert f'Resuming from the newest valid checkpoint {valid}' in log
    assert 'resumed epoch: 0, iter: 2' in log
    assert runner.iter == 4


def test_toy_empty_last_checkpoint_falls_back(toy_work):
    """mmengine would train from scratch without a word."""
    record = osp.join(toy_work, 'last_checkpoint')
    open(record, 'w').close()
    os.utime(osp.join(toy_work, 'iter_2.pth'))  # now the newest file
    runner = toy_checked_runner(toy_work, 4, resume=True)
    runner.train()
    log = _log(runner)
    assert f'Resume: {record} is empty' in log
    assert 'resumed epoch: 0, iter: 2' in log


def test_toy_no_valid_checkpoint_is_an_error(toy_work):
    for name, kind in (('iter_1.pth', 'zero bytes'),
                       ('iter_2.pth', 'random bytes'),
                       ('iter_3.pth', 'truncated')):
        path = osp.join(toy_work, name)
        _break(kind, path, path)
    with pytest.raises(BrokenCheckpointError) as exc:
        toy_checked_runner(toy_work, 4, resume=True).train()
    msg = str(exc.value)
    assert f'no valid checkpoint in {toy_work}' in msg
    assert f'{toy_work}/iter_1.pth is empty (0 bytes)' in msg
    assert f'{toy_work}/iter_2.pth cannot be read as a checkpoint' in msg
    assert f'{toy_work}/iter_3.pth cannot be read as a checkpoint' in msg


def test_toy_without_checkpoints_starts_from_scratch(tmp_path):
    runner = toy_checked_runner(str(tmp_path / 'new'), 1, resume=True)
    runner.train()
    assert 'Resume: no checkpoint in' in _log(runner)
    assert 'training starts from scratch' in _log(runner)


def test_explicit_broken_resume_is_an_error(toy_work):
    """``--resume PATH`` (load_from=PATH, resume=True): no fallback."""
    newest = osp.join(toy_work, 'iter_3.pth')
    _break('truncated', newest, newest)
    with pytest.raises(BrokenCheckpointError,
                       match=f'cannot resume from {newest}: it cannot be '
                       'read as a checkpoint'):
        toy_checked_runner(toy_work, 4, load_from=newest,
                           resume=True).train()


def test_checkpoint_problem_reasons(toy_work, tmp_path):
    good = osp.join(toy_work, 'iter_2.pth')
    assert checkpoint_problem(good) is None
    assert checkpoint_problem(good, ToyModel()) is None
    weights_only = str(tmp_path / 'weights.pth')
    ckpt = torch.load(good, weights_only=True)
    torch.save(dict(meta=ckpt['meta'], state_dict=ckpt['state_dict']),
               weights_only)
    assert 'holds no optimizer state' in checkpoint_problem(weights_only)
    torch.save([1, 2], str(tmp_path / 'list.pth'))
    assert checkpoint_problem(str(tmp_path / 'list.pth')) == \
        'holds a list, not a checkpoint dict'
    torch.save(dict(state_dict={}), str(tmp_path / 'nometa.pth'))
    assert "no 'meta' entry" in checkpoint_problem(
        str(tmp_path / 'nometa.pth'))
    # another model: the entry names and shapes differ
    other = str(tmp_path / 'other.pth')
    torch.save(dict(ckpt, state_dict={'linear.weight': torch.zeros(3, 2),
                                      'linear.bias': torch.zeros(3)}), other)
    assert checkpoint_problem(other, ToyModel()) == (
        'holds the weights of another model: 2 entries of other shapes '
        "(e.g. 'linear.bias': [3] instead of [1])")

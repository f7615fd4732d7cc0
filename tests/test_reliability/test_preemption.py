"""PreemptionCheckpointHook in-process: a real SIGTERM/SIGUSR1 to this
process stops the toy run after the iteration with a checkpoint, a second
signal during the save changes nothing, and ``resume`` continues exactly as
an uninterrupted run (weights, learning rate, data), iteration- and
epoch-based."""
import os
import signal
import uuid

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmplugin_transfuse.engine.hooks import (EXIT_PREEMPTED,
                                             PreemptionCheckpointHook)

from .toy import ToyModel, toy_dataset


class SignalAt(Hook):
    """Sends ``sig`` to this process during the 1-based iteration ``at``
    (before the preemption hook's check of that iteration)."""
    priority = 'HIGHEST'

    def __init__(self, at: int, sig=signal.SIGTERM):
        self.at, self.sig = at, sig

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.at:
            os.kill(os.getpid(), self.sig)


class Record(Hook):
    """Weights after every iteration and the inputs of every batch."""
    priority = 'VERY_LOW'  # before the preemption hook's stop

    def __init__(self):
        self.weights, self.inputs, self.lrs = [], [], []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        x = data_batch['inputs']
        x = torch.stack(x) if isinstance(x, list) else x
        self.inputs.append(x.clone())
        self.lrs.append(runner.optim_wrapper.get_lr()['lr'][0])

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.weights.append(
            torch.cat([p.detach().flatten().clone()
                       for p in runner.model.parameters()]))


def runner(work_dir, by_epoch: bool, hooks=(), resume=False) -> Runner:
    """8 samples, 2 per batch, shuffled: 4 batches per epoch, 8 iterations
    (2 epochs); SGD with momentum; the learning rate changes every
    iteration (iteration-based) or after epoch 1 (epoch-based)."""
    if by_epoch:
        train_cfg = dict(by_epoch=True, max_epochs=2)
        sampler = dict(type='DefaultSampler', shuffle=True)
        sched = dict(type='MultiStepLR', by_epoch=True, milestones=[1])
    else:
        train_cfg = dict(by_epoch=False, max_iters=8)
        sampler = dict(type='InfiniteSampler', shuffle=True)
        sched = dict(type='LinearLR', by_epoch=False, start_factor=0.1,
                     end=8)
    torch.manual_seed(0)  # the model is built before the runner seeds
    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        experiment_name=f'toy_{uuid.uuid4().hex}',
        train_dataloader=dict(
            dataset=toy_dataset(8),
            sampler=sampler,
            collate_fn=dict(type='default_collate'),
            batch_size=2,
            num_workers=0),
        train_cfg=train_cfg,
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9)),
        param_scheduler=sched,
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(type='AtomicCheckpointHook', by_epoch=by_epoch,
                            interval=100)),
        custom_hooks=[PreemptionCheckpointHook(), *hooks],
        randomness=dict(seed=0),
        resume=resume)


def save_with_signal_inside(r: Runner, sig=signal.SIGUSR1):
    """A second signal arrives while the checkpoint is being written."""
    original = r.save_checkpoint
    seen = {}

    def save(*args, **kwargs):
        os.kill(os.getpid(), sig)
        seen['inside'] = True
        return original(*args, **kwargs)

    r.save_checkpoint = save
    return seen


@pytest.mark.parametrize('by_epoch', [False, True])
def test_signal_stops_after_iteration_and_resume_matches(tmp_path, by_epoch):
    full_rec = Record()
    runner(tmp_path / 'full', by_epoch, [full_rec]).train()
    assert len(full_rec.weights) == 8

    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM,
                                                signal.SIGUSR1)}
    part_rec = Record()
    part = runner(tmp_path / 'part', by_epoch, [SignalAt(3), part_rec])
    seen = save_with_signal_inside(part)
    with pytest.raises(SystemExit) as exc:
        part.train()
    assert exc.value.code == EXIT_PREEMPTED == 75
    assert seen['inside']
    # the run's handlers are gone: the process is back to its own
    assert {s: signal.getsignal(s) for s in handlers} == handlers
    assert len(part_rec.weights) == 3  # iteration 3 finished, no 4th
    ckpt_path = tmp_path / 'part' / 'iter_3.pth'
    assert (tmp_path / 'part' / 'last_checkpoint').read_text() == str(
        ckpt_path)
    ckpt = torch.load(ckpt_path, weights_only=True)  # complete, loadable
    assert ckpt['meta']['iter'] == 3
    assert ckpt['meta']['epoch'] == 0  # the epoch it stopped in
    assert 'optimizer' in ckpt and 'param_schedulers' in ckpt
    log = open(part.logger.handlers[-1].baseFilename).read()
    assert 'SIGTERM received; stopping after iteration 3' in log
    where = ' (epoch 1, batch 3/4)' if by_epoch else ''
    assert f'stopped after iteration 3{where}; checkpoint' in log
    assert '1 further signal(s) ignored while saving' in log
    assert 'Exit status 75' in log

    resumed_rec = Record()
    resumed = runner(tmp_path / 'part', by_epoch, [resumed_rec], resume=True)
    resumed.train()
    assert resumed.iter == 8
    # same data: iterations 4..8 of the uninterrupted run
    assert len(resumed_rec.inputs) == 5
    for a, b in zip(resumed_rec.inputs, full_rec.inputs[3:]):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    # same learning rate and optimizer state (momentum) -> same weights
    assert resumed_rec.lrs == pytest.approx(full_rec.lrs[3:])
    for a, b in zip(resumed_rec.weights, full_rec.weights[3:]):
        torch.testing.assert_close(a, b)


def test_epoch_resume_from_last_batch_runs_epoch_end(tmp_path):
    """Stopped after the last batch of epoch 1 (before its epoch-end hooks):
    the resumed run trains no batch of epoch 1 again, steps the epoch
    scheduler and goes on with epoch 2."""
    full_rec = Record()
    runner(tmp_path / 'full', True, [full_rec]).train()
    part = runner(tmp_path / 'part', True, [SignalAt(4)])
    with pytest.raises(SystemExit):
        part.train()
    rec = Record()
    runner(tmp_path / 'part', True, [rec], resume=True).train()
    assert len(rec.inputs) == 4
    for a, b in zip(rec.inputs, full_rec.inputs[4:]):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert rec.lrs == pytest.approx(full_rec.lrs[4:])  # 0.005 after epoch 1
    assert rec.lrs[0] == pytest.approx(0.005)


def test_unknown_signal_name():
    with pytest.raises(ValueError, match="unknown signal 'SIGNOPE'"):
        PreemptionCheckpointHook(signals=['SIGNOPE'])

"""Resume when the newest checkpoint is broken: CheckedRunner names the file
and the reason and falls back to the newest valid one; an explicit broken
``--resume PATH`` is an error naming it.

Through tools/train.py with TransFuse-S (1 ViT block, 32x32): one training
of 2 iterations (a checkpoint after each) gives the valid checkpoints; a
case copies them, makes the newest one ``iter_3.pth`` broken (an SMCA-DETR
checkpoint; truncated) and named by ``last_checkpoint``, and resumes for one
iteration. Truncated, empty and random files as the newest checkpoint, an
empty ``last_checkpoint`` and a work dir of broken files run with the toy
model (milliseconds).
"""
import os
import os.path as osp
import shutil
import uuid

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import Runner

from mmplugin_transfuse.engine.runner import (BrokenCheckpointError,
                                              CheckedRunner,
                                              checkpoint_problem)
from tests.conftest import load_tool
from tests.test_reliability.test_ddp_cpu import SMCA, TRANSFUSE, tiny_config

from .toy import ToyModel, toy_dataset


@pytest.fixture(scope='module')
def trained(tmp_path_factory, synthetic_polyp_root):
    tmp = tmp_path_factory.mktemp('resume_src')
    config = tiny_config(
        TRANSFUSE, str(tmp / 'transfuse_tiny.py'), synthetic_polyp_root, 32,
        **{'model.backbone.global_branch.depth': 1,
           'train_cfg.max_iters': 2, 'train_cfg.val_interval': 100,
           'default_hooks.checkpoint.interval': 1,
           'default_hooks.checkpoint.max_keep_ckpts': -1})
    cfg = Config.fromfile(config)
    cfg.work_dir = str(tmp / 'work')
    Runner.from_cfg(cfg).train()
    return config, cfg.work_dir


def _other_model_checkpoint(path: str) -> None:
    """An SMCA-DETR training checkpoint in mmengine's layout."""
    cfg = Config.fromfile(SMCA)
    cfg.model.decoder.num_layers = 1
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    torch.save(dict(meta=dict(epoch=1, iter=3), state_dict=model.state_dict(),
                    optimizer=dict(state={}, param_groups=[])), path)


def _break(kind: str, src: str, dst: str) -> None:
    if kind == 'truncated':
        data = open(src, 'rb').read()
        data = data[:len(data) // 2]
    elif kind == 'zero bytes':
        data = b''
    elif kind == 'random bytes':
        data = os.urandom(4096)
    if kind == 'other model':
        _other_model_checkpoint(dst)
    else:
        with open(dst, 'wb') as f:
            f.write(data)


REASONS = {
    'truncated': 'cannot be read as a checkpoint',
    'zero bytes': 'is empty (0 bytes)',
    'random bytes': 'cannot be read as a checkpoint (4096 bytes',
    'other model': 'holds the weights of another model',
}


def _work_dir(trained, tmp_path, kind: str) -> str:
    config, src = trained
    work = str(tmp_path / 'work')
    os.makedirs(work)
    for name in ('iter_1.pth', 'iter_2.pth'):
        shutil.copy(osp.join(src, name), osp.join(work, name))
    broken = osp.join(work, 'iter_3.pth')
    _break(kind, osp.join(src, 'iter_2.pth'), broken)
    with open(osp.join(work, 'last_checkpoint'), 'w') as f:
        f.write(broken)
    return work


def _train(config: str, work: str, *resume) -> str:
    """tools/train.py --resume [PATH] for one more iteration; its log."""
    load_tool('train.py').main(
        [config, '--work-dir', work, '--resume', *resume, '--cfg-options',
         'train_cfg.max_iters=3'])
    logger = MMLogger.get_current_instance()
    return open(logger.handlers[-1].baseFilename).read()


def test_auto_resume_skips_the_other_models_checkpoint(trained, tmp_path):
    kind = 'other model'
    config, _ = trained
    work = _work_dir(trained, tmp_path, kind)
    broken = osp.join(work, 'iter_3.pth')
    valid = osp.join(work, 'iter_2.pth')
    log = _train(config, work)
    assert f'Resume: {broken} {REASONS[kind]}' in log
    assert (f'Resuming from the newest valid checkpoint {valid} instead'
            in log)
    assert f'resumed epoch: 0, iter: 2' in log
    # one iteration after iteration 2, then the 3rd checkpoint (atomic,
    # replacing the broken one)
    assert torch.load(broken, weights_only=True)['meta']['iter'] == 3


def test_explicit_broken_resume_is_an_error(trained, tmp_path):
    config, _ = trained
    work = _work_dir(trained, tmp_path, 'truncated')
    broken = osp.join(work, 'iter_3.pth')
    with pytest.raises(BrokenCheckpointError,
                       match=f'cannot resume from {broken}: it cannot be '
                       'read as a checkpoint'):
        _train(config, work, broken)


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


def test_checkpoint_problem_reasons(trained, tmp_path):
    _, src = trained
    good = osp.join(src, 'iter_2.pth')
    assert checkpoint_problem(good) is None
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

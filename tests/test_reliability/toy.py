"""A 3-parameter model whose loss turns NaN at chosen iterations, and a
Runner around it: trains in milliseconds, no registry entries needed."""
import uuid
from typing import Dict, Sequence

import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner

import mmplugin_transfuse  # noqa: F401  registers the engine components


class ToyModel(BaseModel):
    """``loss_mse`` (NaN at the 1-based iterations ``nan_at``) + finite
    ``loss_aux``; at the iterations ``nan_grad_at`` the loss stays finite
    but the gradient of ``linear.bias`` is NaN."""

    def __init__(self, nan_at: Sequence[int] = (),
                 nan_grad_at: Sequence[int] = ()):
        super().__init__()
        self.linear = nn.Linear(2, 1)
        self.nan_at = set(nan_at)
        self.nan_grad_at = set(nan_grad_at)
        self.calls = 0

    def forward(self, inputs, targets=None, mode='tensor'):
        out = self.linear(torch.stack(inputs) if isinstance(inputs, list)
                          else inputs)
        if mode != 'loss':
            return out
        self.calls += 1
        mse = ((out.squeeze(-1) - targets)**2).mean()
        if self.calls in self.nan_at:
            mse = mse * float('nan')
        if self.calls in self.nan_grad_at:
            # forward 0 * sqrt(0) = 0; backward 0 * d sqrt/du(0) = 0 * inf
            zero = self.linear.bias - self.linear.bias.detach()
            mse = mse + 0.0 * zero.sqrt().sum()
        return dict(loss_mse=mse, loss_aux=0.1 * out.abs().mean())


class RecordWeights(Hook):
    """Keeps a copy of the weights after every training iteration."""
    priority = 'LOWEST'

    def __init__(self):
        self.weights = []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.weights.append(
            torch.cat([p.detach().flatten().clone()
                       for p in runner.model.parameters()]))


def toy_dataset(n: int = 8):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 2, generator=g)
    y = x @ torch.tensor([1.5, -2.0]) + 0.5
    return [dict(inputs=x[i], targets=y[i]) for i in range(n)]


def toy_runner(work_dir: str,
               max_iters: int,
               nan_at: Sequence[int] = (),
               nan_grad_at: Sequence[int] = (),
               optim_wrapper: Dict = None,
               checkpoint: Dict = None,
               custom_hooks=(),
               resume: bool = False) -> Runner:
    return Runner(
        model=ToyModel(nan_at, nan_grad_at),
        work_dir=work_dir,
        experiment_name=f'toy_{uuid.uuid4().hex}',
        train_dataloader=dict(
            dataset=toy_dataset(),
            sampler=dict(type='InfiniteSampler', shuffle=False),
            collate_fn=dict(type='default_collate'),
            batch_size=2,
            num_workers=0),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        optim_wrapper=optim_wrapper or dict(
            optimizer=dict(type='SGD', lr=0.05, momentum=0.9)),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=checkpoint or dict(
                type='AtomicCheckpointHook', by_epoch=False, interval=1)),
        custom_hooks=list(custom_hooks),
        randomness=dict(seed=0),
        resume=resume)

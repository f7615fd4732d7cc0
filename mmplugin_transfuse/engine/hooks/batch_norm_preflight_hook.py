"""Refuse, before the first iteration, a config whose BatchNorm layers would
see a single value per channel (batch of 1 image over a 1x1 map)."""
import random
from typing import List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.dataset import InfiniteSampler
from mmengine.dist import all_gather_object, get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.data import BatchSampler, DataLoader

from ..optimizers import describe_params


def smallest_batch(loader: DataLoader) -> Tuple[int, str]:
    """The fewest images one process can get in a training batch, and why.

    Full batches of ``batch_size`` with an ``InfiniteSampler`` (iteration-
    based configs) or ``drop_last``; otherwise the last batch of an epoch
    holds what is left of this process' share of the dataset (``len`` of
    a distributed sampler), and a grouping batch sampler (mmdet's
    ``AspectRatioBatchSampler``) can leave a single image in a group.
    """
    batch_sampler = loader.batch_sampler
    batch_size = loader.batch_size or getattr(batch_sampler, 'batch_size', 1)
    why = f'batch_size={batch_size}'
    if (isinstance(loader.sampler, InfiniteSampler)
            or getattr(batch_sampler, 'drop_last', loader.drop_last)):
        return batch_size, why
    if type(batch_sampler) is not BatchSampler:
        return 1, (f'{why}, but {type(batch_sampler).__name__} without '
                   'drop_last can end an epoch with a 1-image batch')
    left = len(loader.sampler) % batch_size
    if left:
        return left, (f'{why}, and the last batch of an epoch holds '
                      f'{left} of the {len(loader.sampler)} samples of a '
                      'process')
    return batch_size, why


def _rng_states():
    return (random.getstate(), np.random.get_state(), torch.get_rng_state(),
            torch.cuda.get_rng_state_all()
            if torch.cuda.is_available() else None)


def _set_rng_states(states) -> None:
    random.setstate(states[0])
    np.random.set_state(states[1])
    torch.set_rng_state(states[2])
    if states[3] is not None:
        torch.cuda.set_rng_state_all(states[3])


def values_per_channel(model: nn.Module, data_batch: dict,
                       sync_world_size: int) -> List[Tuple[str, int, tuple]]:
    """Run one training forward (``mode='loss'``, no gradient) and measure
    every BatchNorm layer that trains: ``(name, values per channel, input
    shape)``, values counted over the ranks for ``SyncBatchNorm``.

    The BatchNorm layers are put in eval mode for this forward only (they
    neither raise nor update their running statistics); every other module
    keeps its training behaviour, so training-only branches (auxiliary
    heads) are measured too.
    """
    layers = [(name, m) for name, m in model.named_modules()
              if isinstance(m, _BatchNorm) and m.training]
    seen = {}
    handles = []
    for name, module in layers:

        def record(mod, args, name=name):
            x = args[0]
            count = x.numel() // max(x.shape[1], 1)
            if isinstance(mod, nn.SyncBatchNorm):
                count *= sync_world_size
            seen.setdefault(name, (count, tuple(x.shape)))

        handles.append(module.register_forward_pre_hook(record))
        module.eval()
    try:
        with torch.no_grad():
            data = model.data_preprocessor(data_batch, True)
            model(**data, mode='loss')
    finally:
        for handle in handles:
            handle.remove()
        for _, module in layers:
            module.train()
    return [(name, *seen[name]) for name, _ in layers if name in seen]


@HOOKS.register_module()
class BatchNormPreflightHook(Hook):
    """Stop before training when a BatchNorm layer would normalise one value
    per channel.

    In training mode BatchNorm normalises each channel over the batch and
    the spatial positions (Ioffe & Szegedy 2015, Alg. 1); with one image per
    process and a 1x1 map (e.g. the 1/16 stage of a 16x16 crop, a pooled
    branch) there is a single value, and torch raises ``Expected more than 1
    value per channel when training`` *inside* the first (or, for a short
    last batch, a later) iteration. Under DDP that happens on one rank while
    the others wait in the gradient all-reduce (a hang, or an abort of the
    whole job without the layer's name).

    ``before_train`` therefore runs one forward of the model, unwrapped from
    DDP, on the first training sample (random states restored afterwards, so
    the run's augmentations and dropout are unchanged; no gradient; running
    statistics untouched), counts the values per channel each training
    BatchNorm layer sees for one image, and scales it to the smallest batch
    the training dataloader can hand one process (:func:`smallest_batch`).
    The ranks exchange their findings, and every rank raises the same
    ``ValueError`` naming the layers, their input shapes and the fixes (a
    larger batch per process, larger images, SyncBN over the processes, or
    GroupNorm). Layers frozen in eval mode (``norm_eval=True``) use their
    running statistics and are not concerned.

    Scope: the check sees the size of the first sample; a pipeline with
    random scales can still draw smaller images later.

    Config::

        custom_hooks = [dict(type='BatchNormPreflightHook')]
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        loader = runner.train_dataloader
        batch, why = smallest_batch(loader)
        problems: List[str] = []
        error: Optional[str] = None
        states = _rng_states()
        was_training = model.training
        try:
            model.train()
            sample = loader.dataset[0]
            data_batch = loader.collate_fn([sample])
            for name, count, shape in values_per_channel(
                    model, data_batch, get_world_size()):
                if count * batch <= 1:
                    problems.append(f'{name} {list(shape)}')
        # any rank's failure must reach every rank, or the others hang
        except Exception as e:  # noqa: BLE001
            error = f'{type(e).__name__}: {e}'
        finally:
            _set_rng_states(states)
            model.train(was_training)
        found = all_gather_object((problems, error))
        problems = list(dict.fromkeys(p for ps, _ in found for p in ps))
        errors = [e for _, e in found if e]
        if errors:
            raise RuntimeError(
                'BatchNormPreflightHook: the preflight forward of one '
                f'training sample failed: {errors[0]}')
        if problems:
            raise ValueError(
                f'This config cannot train: with {batch} image(s) per '
                f'process ({why}), {len(problems)} BatchNorm layer(s) '
                'would normalise a single value per channel, which torch '
                'refuses in the middle of training ("Expected more than 1 '
                'value per channel"); layer [input shape for 1 image]: '
                f'{describe_params(problems)}. Fix: a larger '
                'batch per process (train_dataloader.batch_size >= 2, or '
                'drop_last=True for a short last batch), larger input '
                "images, SyncBN across the processes (norm_cfg=dict(type="
                "'SyncBN'), GPUs), or GroupNorm (norm_cfg=dict(type='GN', "
                'num_groups=...)) in these layers.')

"""Stop training at the first NaN/inf loss, naming the iteration and terms."""
import logging
import math
from typing import Dict, Optional, Union

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.registry import HOOKS
from mmengine.runner import EpochBasedTrainLoop

from ..optimizers import NonFiniteSkipOptimWrapper

DATA_BATCH = Optional[Union[dict, tuple, list]]


def nonfinite_loss_terms(outputs: Optional[Dict]) -> Dict[str, float]:
    """Loss terms of ``train_step``'s ``log_vars`` that are NaN or +-inf.

    A term is a key containing ``'loss'`` (the keys that
    ``BaseModel.parse_losses`` sums, plus the total ``'loss'`` itself);
    other logged values such as ``acc_seg`` are ignored.
    """
    bad = {}
    for name, value in (outputs or {}).items():
        if 'loss' not in name:
            continue
        if isinstance(value, torch.Tensor):
            value = value.detach().float().mean().item()
        if isinstance(value, (int, float)) and not math.isfinite(value):
            bad[name] = float(value)
    return bad


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Check the loss terms after every training iteration.

    When a loss term of ``train_step``'s outputs is NaN or +-inf:

    - if the optimizer wrapper is a :class:`NonFiniteSkipOptimWrapper` that
      skipped this iteration's step, log a warning naming the iteration and
      the non-finite terms, and go on;
    - otherwise raise ``FloatingPointError`` naming the iteration (1-based,
      as in the ``Iter(train) [k/N]`` log lines; epoch-based loops also get
      the epoch) and every non-finite term with its value.

    The hook runs with priority ``ABOVE_NORMAL``, i.e. before ``LoggerHook``
    (``BELOW_NORMAL``) and ``CheckpointHook`` (``VERY_LOW``) of the same
    iteration, so no checkpoint with NaN weights is written: the last
    checkpoint (``last_checkpoint``) is from before the failure and
    ``--resume`` restarts from it. Without the skipping wrapper the NaN step
    itself has already been applied to the in-memory weights when the hook
    raises (they are discarded with the process).

    Config::

        custom_hooks = [dict(type='NonFiniteLossHook')]
    """

    priority = 'ABOVE_NORMAL'

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[Dict] = None) -> None:
        bad = nonfinite_loss_terms(outputs)
        if not bad:
            return
        where = f'iteration {runner.iter + 1}'
        if isinstance(runner.train_loop, EpochBasedTrainLoop):
            where += f' (epoch {runner.epoch + 1}, batch {batch_idx + 1})'
        terms = ', '.join(f'{k}={v}' for k, v in bad.items())
        if self._step_was_skipped(runner.optim_wrapper):
            print_log(
                f'Non-finite loss terms at {where}: {terms}; the optimizer '
                'step was skipped (NonFiniteSkipOptimWrapper).',
                logger='current',
                level=logging.WARNING)
            return
        raise FloatingPointError(
            f'Non-finite loss at {where}: {terms}. Training stopped before '
            'this iteration was logged or checkpointed; resume from the last '
            'checkpoint with a lower learning rate / gradient clipping, or '
            "set optim_wrapper.type='NonFiniteSkipOptimWrapper' to skip such "
            'iterations.')

    @staticmethod
    def _step_was_skipped(
            optim_wrapper: Union[OptimWrapper, OptimWrapperDict]) -> bool:
        wrappers = (optim_wrapper.values() if isinstance(
            optim_wrapper, OptimWrapperDict) else [optim_wrapper])
        return any(
            isinstance(w, NonFiniteSkipOptimWrapper) and w.last_update_skipped
            for w in wrappers)

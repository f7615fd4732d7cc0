"""Stop training at the first NaN/inf loss or gradient, naming the
iteration and the loss terms / parameters."""
import logging
import math
from typing import Dict, List, Optional, Union

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.optim import AmpOptimWrapper, OptimWrapper, OptimWrapperDict
from mmengine.registry import HOOKS
from mmengine.runner import EpochBasedTrainLoop

from ..optimizers import (NonFiniteSkipOptimWrapper, describe_params,
                          nonfinite_grad_params, param_names)

DATA_BATCH = Optional[Union[dict, tuple, list]]
RESUME_HINT = (
    'resume from the last checkpoint with a lower learning rate / gradient '
    "clipping, or set optim_wrapper.type='NonFiniteSkipOptimWrapper' to "
    'skip such iterations.')


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


def _wrappers(optim_wrapper: Union[OptimWrapper, OptimWrapperDict]):
    return (list(optim_wrapper.values()) if isinstance(
        optim_wrapper, OptimWrapperDict) else [optim_wrapper])


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stop (or report skipped) iterations with a NaN/inf loss or gradient.

    **Gradients.** In ``before_train`` the hook makes each plain
    ``OptimWrapper`` of the runner check the gradients at its ``step``,
    after ``backward`` (and DDP's all-reduce) and *before* gradient clipping
    (:func:`~mmplugin_transfuse.engine.optimizers.nonfinite_grad_params`,
    one fused norm per step plus one scalar all-reduce under DDP). A NaN or
    +-inf gradient withholds that step (clipping would otherwise spread the
    NaN to every gradient, and the step to every weight) and is reported at
    the end of the iteration, below. :class:`NonFiniteSkipOptimWrapper`
    checks its gradients itself and skips the step (the hook only gives it
    the parameter names); ``AmpOptimWrapper`` is left alone: its
    ``GradScaler`` already skips steps with inf/NaN gradients and lowers the
    loss scale, which is how mixed precision works.

    **After every iteration**, when a loss term of ``train_step``'s outputs
    is NaN or +-inf, or the step was withheld for non-finite gradients:

    - if the optimizer wrapper is a :class:`NonFiniteSkipOptimWrapper` that
      skipped this iteration's step, log a warning naming the iteration and
      the non-finite terms, and go on;
    - otherwise raise ``FloatingPointError`` naming the iteration (1-based,
      as in the ``Iter(train) [k/N]`` log lines; epoch-based loops also get
      the epoch) and every non-finite loss term with its value, or, for a
      finite loss, the first parameters whose gradient is not finite.

    The hook runs with priority ``ABOVE_NORMAL``, i.e. before ``LoggerHook``
    (``BELOW_NORMAL``) and ``CheckpointHook`` (``VERY_LOW``) of the same
    iteration, so no checkpoint with NaN weights is written: the last
    checkpoint (``last_checkpoint``) is from before the failure and
    ``--resume`` restarts from it. A step whose gradients are non-finite is
    never applied, so the weights in memory are those of the iteration
    before. (A non-finite loss nearly always has non-finite gradients, so
    its step is withheld too; a NaN term that no parameter reaches leaves
    the gradients finite, its step is taken, and the run still stops
    before the checkpoint.)

    Config::

        custom_hooks = [dict(type='NonFiniteLossHook')]
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self) -> None:
        #: parameters with non-finite gradients of a withheld step
        self._withheld: List[str] = []

    def before_train(self, runner) -> None:
        names = param_names(runner.model)
        for wrapper in _wrappers(runner.optim_wrapper):
            if isinstance(wrapper, NonFiniteSkipOptimWrapper):
                wrapper.param_names = names
            elif (not isinstance(wrapper, AmpOptimWrapper)
                  and not getattr(wrapper.step, 'checks_grads', False)):
                self._check_grads_at_step(wrapper, names)

    def _check_grads_at_step(self, wrapper: OptimWrapper,
                             names: Dict[int, str]) -> None:
        """Replace this wrapper object's ``step`` by one that withholds a
        step with non-finite gradients (``update_params`` calls
        ``self.step``; the wrapper's class is not changed)."""
        plain_step = wrapper.step

        def step(**kwargs) -> None:
            bad = nonfinite_grad_params(wrapper.optimizer, names)
            if bad:
                self._withheld = bad
                return  # update_params zeroes the gradients next
            plain_step(**kwargs)

        step.checks_grads = True
        wrapper.step = step

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[Dict] = None) -> None:
        bad = nonfinite_loss_terms(outputs)
        withheld, self._withheld = self._withheld, []
        if not bad and not withheld:
            return
        where = f'iteration {runner.iter + 1}'
        if isinstance(runner.train_loop, EpochBasedTrainLoop):
            where += f' (epoch {runner.epoch + 1}, batch {batch_idx + 1})'
        if not bad:
            raise FloatingPointError(
                f'Non-finite gradients at {where} with a finite loss: '
                f'{describe_params(withheld)}. Training stopped before the '
                'optimizer step (the weights are those of the iteration '
                'before) and before this iteration was logged or '
                f'checkpointed; {RESUME_HINT}')
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
            'this iteration was logged or checkpointed; ' + RESUME_HINT)

    @staticmethod
    def _step_was_skipped(
            optim_wrapper: Union[OptimWrapper, OptimWrapperDict]) -> bool:
        return any(
            isinstance(w, NonFiniteSkipOptimWrapper) and w.last_update_skipped
            for w in _wrappers(optim_wrapper))

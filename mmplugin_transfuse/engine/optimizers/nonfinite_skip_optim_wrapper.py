"""OptimWrapper that skips the optimizer step when the loss or the
gradients are NaN/inf."""
import logging
from typing import Dict, List, Mapping, Optional

import torch
from mmengine.dist import all_reduce, get_world_size, is_distributed
from mmengine.logging import MessageHub, print_log
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS

from .nonfinite_grads import describe_params, nonfinite_grad_params


def current_iteration() -> Optional[int]:
    """1-based training iteration, as printed in ``Iter(train) [k/N]``.

    ``RuntimeInfoHook.before_train_iter`` stores the 0-based ``runner.iter``
    in the current message hub; ``None`` outside a runner.
    """
    it = MessageHub.get_current_instance().get_info('iter')
    return None if it is None else int(it) + 1


@OPTIM_WRAPPERS.register_module()
class NonFiniteSkipOptimWrapper(OptimWrapper):
    """``OptimWrapper`` that drops iterations whose loss or gradients are not
    finite.

    Two checks, each skipping the optimizer step so that neither the weights
    nor the optimizer state (Adam moments, step count) are touched:

    1. ``update_params(loss)`` checks ``loss`` *before* ``backward``: a NaN
       or +-inf loss gets no backward pass, and gradients accumulated so far
       in the current accumulation window are zeroed.
    2. ``step()`` checks the gradients after ``backward`` (and DDP's
       all-reduce) but *before* gradient clipping
       (:func:`~.nonfinite_grads.nonfinite_grad_params`): a finite loss with
       a NaN/inf gradient (e.g. ``sqrt`` at 0 in the backward pass) skips
       the step and names the first such parameters in the warning.

    A skipped iteration still counts (the iteration counter, the lr schedule
    and the data order go on as without the skip). After
    ``max_consecutive_skips`` skipped iterations in a row the run is
    hopeless (diverged weights, broken data): the next skip raises
    ``FloatingPointError`` naming the iteration.

    In distributed training every rank must skip together (otherwise the
    ranks that run ``backward`` wait forever in DDP's gradient all-reduce for
    the rank that does not), so each finite flag is all-reduced (``min``)
    over the ranks: one scalar collective per check.

    Pair it with :class:`NonFiniteLossHook`, which names the non-finite loss
    terms of a skipped iteration in the log, and gives this wrapper the
    parameter names of the model (without it, parameters are named by their
    position ``param_groups[g][i]``).

    Config::

        optim_wrapper = dict(type='NonFiniteSkipOptimWrapper',
                             max_consecutive_skips=10, optimizer=...)

    Args:
        max_consecutive_skips (int): Skipped iterations in a row that are
            tolerated. Defaults to 10.
        *args, **kwargs: Those of :class:`mmengine.optim.OptimWrapper`.

    Attributes:
        skipped_iters (list[int]): 1-based iterations whose step was skipped.
        consecutive_skips (int): Current run of skipped iterations.
        last_update_skipped (bool): Whether the latest ``update_params`` call
            skipped the step (read by :class:`NonFiniteLossHook`).
        last_nonfinite_grads (list[str]): Parameters with non-finite
            gradients at the latest gradient skip.
        param_names (dict[int, str]): ``id(param) -> name`` for messages.
    """

    def __init__(self, *args, max_consecutive_skips: int = 10, **kwargs):
        super().__init__(*args, **kwargs)
        if max_consecutive_skips < 0:
            raise ValueError('max_consecutive_skips must be >= 0, got '
                             f'{max_consecutive_skips}')
        self.max_consecutive_skips = max_consecutive_skips
        self.skipped_iters: List[Optional[int]] = []
        self.consecutive_skips = 0
        self.last_update_skipped = False
        self.last_nonfinite_grads: List[str] = []
        self.param_names: Mapping[int, str] = {}

    @staticmethod
    def all_ranks_finite(loss: torch.Tensor) -> bool:
        """Whether ``loss`` is finite on every rank (collective under DDP)."""
        flag = torch.isfinite(loss.detach()).all().to(torch.float32)
        if is_distributed() and get_world_size() > 1:
            flag = flag.reshape(1)
            all_reduce(flag, op='min')
        return bool(flag.item())

    def update_params(self,
                      loss: torch.Tensor,
                      step_kwargs: Optional[Dict] = None,
                      zero_kwargs: Optional[Dict] = None) -> None:
        self.last_update_skipped = False
        if not self.all_ranks_finite(loss):
            self._skip(f'Non-finite loss ({loss.item()})')
            # The skipped micro-batch still counts towards gradient
            # accumulation so the window boundaries (and lr schedule) do
            # not shift.
            self._inner_count += 1
            self.zero_grad(**(zero_kwargs or {}))
            return
        # backward, then step() below at the end of an accumulation window
        super().update_params(loss, step_kwargs, zero_kwargs)
        if not self.last_update_skipped:
            self.consecutive_skips = 0

    def step(self, **kwargs) -> None:
        """Clip and step, unless a gradient is NaN/inf on some rank."""
        bad = nonfinite_grad_params(self.optimizer, self.param_names)
        if not bad:
            super().step(**kwargs)
            return
        self.last_nonfinite_grads = bad
        self._skip('Finite loss but non-finite gradients of '
                   f'{describe_params(bad)}')
        self.zero_grad()

    def _skip(self, reason: str) -> None:
        """Book-keep a skipped step; raise after too many in a row."""
        iteration = current_iteration()
        self.last_update_skipped = True
        self.consecutive_skips += 1
        self.skipped_iters.append(iteration)
        if self.consecutive_skips > self.max_consecutive_skips:
            raise FloatingPointError(
                f'{reason} at iteration {iteration} after '
                f'{self.consecutive_skips - 1} skipped iterations in a row '
                f'(optim_wrapper.max_consecutive_skips='
                f'{self.max_consecutive_skips}); training stopped. The '
                'weights are those of the last finite iteration; resume '
                'from a checkpoint with a lower learning rate or check the '
                'data.')
        print_log(
            f'{reason} at iteration {iteration}: optimizer step skipped '
            f'({self.consecutive_skips}/{self.max_consecutive_skips} in a '
            'row).',
            logger='current',
            level=logging.WARNING)

"""OptimWrapper that skips the optimizer step when the loss is NaN/inf."""
import logging
from typing import Dict, List, Optional

import torch
from mmengine.dist import all_reduce, get_world_size, is_distributed
from mmengine.logging import MessageHub, print_log
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS


def current_iteration() -> Optional[int]:
    """1-based training iteration, as printed in ``Iter(train) [k/N]``.

    ``RuntimeInfoHook.before_train_iter`` stores the 0-based ``runner.iter``
    in the current message hub; ``None`` outside a runner.
    """
    it = MessageHub.get_current_instance().get_info('iter')
    return None if it is None else int(it) + 1


@OPTIM_WRAPPERS.register_module()
class NonFiniteSkipOptimWrapper(OptimWrapper):
    """``OptimWrapper`` that drops iterations whose loss is not finite.

    ``update_params(loss)`` checks ``loss`` *before* ``backward``: when it is
    NaN or +-inf there is no backward pass and no optimizer step, so neither
    the weights nor the optimizer state (Adam moments, step count) are
    touched, and gradients accumulated so far in the current accumulation
    window are zeroed. The iteration still counts (the iteration counter, the
    lr schedule and the data order go on as without the skip).

    After ``max_consecutive_skips`` skipped iterations in a row the run is
    hopeless (diverged weights, broken data): the next non-finite loss raises
    ``FloatingPointError`` naming the iteration.

    In distributed training every rank must skip together (otherwise the
    ranks that run ``backward`` wait forever in DDP's gradient all-reduce for
    the rank that does not), so the finite flag is all-reduced (``min``) over
    the ranks: one scalar collective per iteration.

    Pair it with :class:`NonFiniteLossHook`, which names the non-finite loss
    terms of a skipped iteration in the log (and, without this wrapper, stops
    the run at the first non-finite loss instead of skipping).

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
        if self.all_ranks_finite(loss):
            self.consecutive_skips = 0
            self.last_update_skipped = False
            super().update_params(loss, step_kwargs, zero_kwargs)
            return

        iteration = current_iteration()
        self.last_update_skipped = True
        self.consecutive_skips += 1
        self.skipped_iters.append(iteration)
        if self.consecutive_skips > self.max_consecutive_skips:
            raise FloatingPointError(
                f'Non-finite loss ({loss.item()}) at iteration {iteration} '
                f'after {self.consecutive_skips - 1} skipped iterations in a '
                f'row (optim_wrapper.max_consecutive_skips='
                f'{self.max_consecutive_skips}); training stopped. The '
                'weights are those of the last finite iteration; resume '
                'from a checkpoint with a lower learning rate or check the '
                'data.')
        print_log(
            f'Non-finite loss ({loss.item()}) at iteration {iteration}: '
            'optimizer step skipped '
            f'({self.consecutive_skips}/{self.max_consecutive_skips} in a '
            'row).',
            logger='current',
            level=logging.WARNING)
        # The skipped micro-batch still counts towards gradient accumulation
        # so the window boundaries (and lr schedule) do not shift.
        self._inner_count += 1
        self.zero_grad(**(zero_kwargs or {}))

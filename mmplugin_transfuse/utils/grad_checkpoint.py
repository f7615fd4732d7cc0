"""When a module with ``with_cp`` runs under gradient checkpointing, and
running a sub-module that way."""
from typing import Any, Callable

import torch
import torch.utils.checkpoint as cp
from torch import nn


def use_grad_checkpointing(module: nn.Module) -> bool:
    """``module.with_cp and module.training and torch.is_grad_enabled()``.

    Checkpointing trades compute for the activations kept for backward; in
    eval mode or under ``torch.no_grad()`` nothing is kept, so it would only
    add overhead (and ``use_reentrant=False`` checkpoints still recompute).
    The TransFuse transformer branch and the SMCA encoder/decoder all use
    this one condition.
    """
    return bool(module.with_cp) and module.training and torch.is_grad_enabled()


def maybe_checkpoint(owner: nn.Module, fn: Callable, *args: Any,
                     **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, through ``torch.utils.checkpoint``
    (non-reentrant: keyword arguments pass through, the RNG state is
    restored so dropout draws the same masks) when
    :func:`use_grad_checkpointing` holds for ``owner``."""
    if use_grad_checkpointing(owner):
        return cp.checkpoint(fn, *args, use_reentrant=False, **kwargs)
    return fn(*args, **kwargs)

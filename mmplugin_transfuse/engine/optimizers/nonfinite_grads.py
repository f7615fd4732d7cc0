"""Find the parameters whose gradient holds NaN/inf, the same on every rank.

A finite loss can still give non-finite gradients (``sqrt``/``log``/division
at 0 in a backward pass, an overflow in a large layer). The step then writes
NaN into the weights and the loss turns NaN only one iteration later, after
a checkpoint of that iteration may have saved the NaN weights. The check
must run after ``backward`` (and DDP's gradient all-reduce) but *before*
gradient clipping: ``clip_grad_norm_`` with a NaN total norm multiplies every
gradient by NaN, after which every parameter looks guilty.
"""
from typing import Dict, List, Mapping, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.dist import (all_gather_object, all_reduce, get_world_size,
                           is_distributed)
from mmengine.model import is_model_wrapper
from torch.optim import Optimizer

MAX_LISTED_PARAMS = 5


def param_names(model: nn.Module) -> Dict[int, str]:
    """``id(parameter) -> name`` in the unwrapped model (no ``module.``
    prefix of a DDP wrapper), for error messages."""
    if is_model_wrapper(model):
        model = model.module
    return {id(p): name for name, p in model.named_parameters()}


def _local_nonfinite(optimizer: Optimizer,
                     names: Mapping[int, str]) -> List[str]:
    """Names of this rank's parameters with a non-finite gradient, in
    ``param_groups`` order (unnamed ones as ``param_groups[g][i]``)."""
    grads = [
        p.grad for group in optimizer.param_groups for p in group['params']
        if p.grad is not None
    ]
    if not grads:
        return []
    # one fused pass (what clip_grad_norm_ computes) in the common case; a
    # non-finite norm can also be an overflow of finite values, so only
    # then is every tensor looked at
    if torch.isfinite(torch.nn.utils.get_total_norm(grads)):
        return []
    bad = []
    for g, group in enumerate(optimizer.param_groups):
        for i, p in enumerate(group['params']):
            if p.grad is not None and not torch.isfinite(p.grad).all():
                bad.append(names.get(id(p), f'param_groups[{g}][{i}] '
                                     f'{tuple(p.shape)}'))
    return bad


def nonfinite_grad_params(
        optimizer: Optimizer,
        names: Optional[Mapping[int, str]] = None) -> List[str]:
    """Parameters of ``optimizer`` whose gradient is NaN or +-inf on any rank.

    Call it where the optimizer step would happen (after ``backward``, before
    clipping). In distributed training every rank must take the same
    decision (a rank that steps while another stops would wait forever in
    the next all-reduce), so a finite flag is all-reduced (``min``): one
    scalar collective per step; only when it fails are the names gathered
    from every rank.

    Args:
        optimizer (Optimizer): Its ``param_groups`` hold the parameters.
        names (Mapping[int, str], optional): ``id(param) -> name`` from
            :func:`param_names`.

    Returns:
        list[str]: Names in ``param_groups`` order (first rank that reports
        one first), empty when every gradient is finite on every rank.
    """
    bad = _local_nonfinite(optimizer, names or {})
    if not (is_distributed() and get_world_size() > 1):
        return bad
    device = next((p.device for group in optimizer.param_groups
                   for p in group['params']), torch.device('cpu'))
    flag = torch.tensor([0.0 if bad else 1.0], device=device)
    all_reduce(flag, op='min')
    if flag.item() == 1.0:
        return []
    merged: List[str] = []
    for rank_bad in all_gather_object(bad):
        merged += [name for name in rank_bad if name not in merged]
    return merged


def describe_params(names: Sequence[str],
                    max_listed: int = MAX_LISTED_PARAMS) -> str:
    """``"a, b, c"`` or ``"a, b, c, d, e and 7 more"`` (order kept)."""
    shown = ', '.join(names[:max_listed])
    more = len(names) - max_listed
    return f'{shown} and {more} more' if more > 0 else shown

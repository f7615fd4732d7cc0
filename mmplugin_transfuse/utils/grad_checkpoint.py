"""When a module with ``with_cp`` runs under gradient checkpointing."""
import torch
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

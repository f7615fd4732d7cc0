from .atomic_checkpoint_hook import AtomicCheckpointHook
from .nonfinite_loss_hook import NonFiniteLossHook

__all__ = ['AtomicCheckpointHook', 'NonFiniteLossHook']

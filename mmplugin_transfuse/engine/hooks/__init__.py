from .atomic_checkpoint_hook import AtomicCheckpointHook
from .batch_norm_preflight_hook import BatchNormPreflightHook
from .nonfinite_loss_hook import NonFiniteLossHook

__all__ = [
    'AtomicCheckpointHook', 'BatchNormPreflightHook', 'NonFiniteLossHook'
]

from .atomic_checkpoint_hook import (AtomicCheckpointHook,
                                     save_checkpoint_atomically)
from .batch_norm_preflight_hook import BatchNormPreflightHook
from .nonfinite_loss_hook import NonFiniteLossHook
from .preemption_hook import (EXIT_PREEMPTED, PreemptionCheckpointHook,
                              TrainingPreempted)

__all__ = [
    'AtomicCheckpointHook', 'BatchNormPreflightHook', 'NonFiniteLossHook',
    'PreemptionCheckpointHook', 'TrainingPreempted', 'EXIT_PREEMPTED',
    'save_checkpoint_atomically'
]

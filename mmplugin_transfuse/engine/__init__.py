"""Engine side (scope-neutral): hooks, optimizer wrappers and a runner that
make training runs fail early and loudly instead of silently.

Everything here registers into mmengine's *root* registries (``HOOKS``,
``OPTIM_WRAPPERS``, ``RUNNERS``). mmseg's and mmdet's registries are children
of those and fall back to their parent when a type is not found, so the same
names work in configs with ``default_scope='mmseg'`` and ``'mmdet'``
(``RUNNERS`` is even looked up outside any scope, so a runner must be in the
root registry).
"""
from .hooks import (AtomicCheckpointHook, NonFiniteLossHook,
                    PreemptionCheckpointHook)
from .optimizers import NonFiniteSkipOptimWrapper
from .runner import CheckedRunner, check_config_paths

__all__ = [
    'AtomicCheckpointHook', 'NonFiniteLossHook', 'NonFiniteSkipOptimWrapper',
    'PreemptionCheckpointHook',
    'CheckedRunner', 'check_config_paths'
]

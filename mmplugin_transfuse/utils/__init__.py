from .grad_checkpoint import maybe_checkpoint, use_grad_checkpointing
from .image_checks import (CheckedLoadImageFromFile, check_image_bytes,
                           read_image_file)
from .messages import first_n_and_more
from .safe_checkpoint import (checkpoint_safe_globals,
                              register_checkpoint_safe_globals)

__all__ = [
    'checkpoint_safe_globals', 'register_checkpoint_safe_globals',
    'CheckedLoadImageFromFile', 'check_image_bytes', 'read_image_file',
    'first_n_and_more', 'maybe_checkpoint', 'use_grad_checkpointing'
]

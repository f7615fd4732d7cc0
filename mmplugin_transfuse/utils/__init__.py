from .image_checks import (CheckedLoadImageFromFile, check_image_bytes,
                           read_image_file)
from .safe_checkpoint import (checkpoint_safe_globals,
                              register_checkpoint_safe_globals)

__all__ = [
    'checkpoint_safe_globals', 'register_checkpoint_safe_globals',
    'CheckedLoadImageFromFile', 'check_image_bytes', 'read_image_file'
]

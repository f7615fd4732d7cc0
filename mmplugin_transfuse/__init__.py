"""mmplugin_transfuse: TransFuse (mmseg) and SMCA-DETR (mmdet) as OpenMMLab 2.x plugins.

Importing the package (``custom_imports=dict(imports=['mmplugin_transfuse'])``)
registers the segmentation modules into mmseg's registries, the detection
modules into mmdet's registries, and allow-lists the types that mmengine
checkpoints hold so that ``torch.load(weights_only=True)`` (the default on
torch >= 2.6) can resume training.
"""
from .utils.safe_checkpoint import register_checkpoint_safe_globals
from .version import __version__

register_checkpoint_safe_globals()

from . import seg  # noqa: E402,F401  registers into mmseg
from . import det  # noqa: E402,F401  registers into mmdet
from . import engine  # noqa: E402,F401  registers into mmengine (root)

__all__ = ['__version__', 'register_checkpoint_safe_globals']

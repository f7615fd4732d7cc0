from .kaiming_fan_in_init import KaimingFanInInit
from .pretrained import (PretrainedBranchMixin, adapt_input,
                         checkpoint_url, hub_cache_file,
                         load_checkpoint_state_dict, split_keys)
from .preact_residual import PreActResidual
from .spatial_attention import SpatialAttention
from .up_block import AttentionGate, ResidualDoubleConv, TransFuseUp

__all__ = [
    'PreActResidual', 'SpatialAttention', 'AttentionGate',
    'ResidualDoubleConv', 'TransFuseUp', 'adapt_input', 'checkpoint_url',
    'hub_cache_file', 'load_checkpoint_state_dict', 'split_keys',
    'KaimingFanInInit', 'PretrainedBranchMixin'
]

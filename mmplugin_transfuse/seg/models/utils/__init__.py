from .kaiming_fan_in_init import KaimingFanInInit
from .pretrained import (PretrainedBranchMixin, adapt_first_conv,
                         convert_deit_checkpoint, convert_resnet_checkpoint,
                         convert_vgg_checkpoint, load_local_state_dict,
                         load_pretrained_branch, resize_pos_embed)
from .preact_residual import PreActResidual
from .spatial_attention import SpatialAttention
from .up_block import AttentionGate, ResidualDoubleConv, TransFuseUp

__all__ = [
    'PreActResidual', 'SpatialAttention', 'AttentionGate',
    'ResidualDoubleConv', 'TransFuseUp', 'resize_pos_embed',
    'adapt_first_conv', 'load_local_state_dict', 'convert_deit_checkpoint',
    'convert_resnet_checkpoint', 'convert_vgg_checkpoint',
    'load_pretrained_branch', 'KaimingFanInInit', 'PretrainedBranchMixin'
]

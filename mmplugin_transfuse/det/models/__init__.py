"""SMCA-DETR modules, registered into mmdet's ``MODELS`` registry."""
from .backbones import TorchvisionDilatedResNet
from .dense_heads import SMCADETRHead
from .detectors import SMCADETR
from .layers import (SMCATransformerDecoder, SMCATransformerDecoderLayer,
                     gaussian_log_prior)

__all__ = [
    'SMCADETR', 'SMCADETRHead', 'SMCATransformerDecoder',
    'SMCATransformerDecoderLayer', 'TorchvisionDilatedResNet',
    'gaussian_log_prior'
]

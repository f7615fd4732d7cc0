from .gaussian_prior import gaussian_log_prior, key_grid
from .smca_decoder import (SCALE_MODES, SMCATransformerDecoder,
                           SMCATransformerDecoderLayer)
from .smca_encoder import SMCATransformerEncoder

__all__ = [
    'gaussian_log_prior', 'key_grid', 'SCALE_MODES', 'SMCATransformerDecoder',
    'SMCATransformerDecoderLayer', 'SMCATransformerEncoder'
]

from .gaussian_prior import gaussian_log_prior
from .sdpa_attention import SDPAMultiheadAttention
from .smca_decoder import (SCALE_MODES, SMCATransformerDecoder,
                           SMCATransformerDecoderLayer)
from .smca_encoder import (SMCATransformerEncoder,
                           SMCATransformerEncoderLayer)
from .smca_ms_dwconv_encoder import (SMCADWConvEncoder,
                                     SMCADWConvEncoderLayer)
from .smca_ms_decoder import (SMCALevelPrior, SMCAMultiScaleDecoder,
                              SMCAMultiScaleDecoderLayer)
from .smca_ms_encoder import (SMCAIntraScaleLayer, SMCAMultiScaleEncoder,
                              SMCAMultiScaleLayer)

__all__ = [
    'gaussian_log_prior', 'SCALE_MODES', 'SMCATransformerDecoder',
    'SMCATransformerDecoderLayer', 'SMCATransformerEncoder',
    'SMCATransformerEncoderLayer',
    'SDPAMultiheadAttention', 'SMCALevelPrior', 'SMCAMultiScaleDecoder',
    'SMCAMultiScaleDecoderLayer', 'SMCAIntraScaleLayer',
    'SMCAMultiScaleEncoder', 'SMCAMultiScaleLayer', 'SMCADWConvEncoder',
    'SMCADWConvEncoderLayer'
]

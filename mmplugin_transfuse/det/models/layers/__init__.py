from .gaussian_prior import (SCALE_MODES, SMCAPriorPredictor,
                             gaussian_log_prior)
from .sdpa_attention import SDPAMultiheadAttention
from .smca_decoder import SMCATransformerDecoder, SMCATransformerDecoderLayer
from .smca_encoder import (SMCATransformerEncoder,
                           SMCATransformerEncoderLayer)
from .smca_ms_dwconv_encoder import (SMCADWConvEncoder,
                                     SMCADWConvEncoderLayer)
from .smca_ms_decoder import SMCAMultiScaleDecoder, SMCAMultiScaleDecoderLayer
from .smca_ms_encoder import (SMCAIntraScaleLayer, SMCAMultiScaleEncoder,
                              SMCAMultiScaleLayer)

__all__ = [
    'gaussian_log_prior', 'SCALE_MODES', 'SMCAPriorPredictor',
    'SMCATransformerDecoder', 'SMCATransformerDecoderLayer',
    'SMCATransformerEncoder', 'SMCATransformerEncoderLayer',
    'SDPAMultiheadAttention', 'SMCAMultiScaleDecoder',
    'SMCAMultiScaleDecoderLayer', 'SMCAIntraScaleLayer',
    'SMCAMultiScaleEncoder', 'SMCAMultiScaleLayer', 'SMCADWConvEncoder',
    'SMCADWConvEncoderLayer'
]

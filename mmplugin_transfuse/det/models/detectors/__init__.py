from .smca_detr import SMCADETR
from .smca_detr_ms import SMCADETRMultiScale

__all__ = ['SMCADETR', 'SMCADETRMultiScale']

from .smca_detr import SMCADETR

__all__ = ['SMCADETR']

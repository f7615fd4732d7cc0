from .smca_head import SMCADETRHead

__all__ = ['SMCADETRHead']

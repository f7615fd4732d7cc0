from .bifusion import BiFusionBlock, BiFusionNeck

__all__ = ['BiFusionBlock', 'BiFusionNeck']

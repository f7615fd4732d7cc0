from .polyp import PolypDataset
from .transforms import BinarizeMask

__all__ = ['PolypDataset', 'BinarizeMask']

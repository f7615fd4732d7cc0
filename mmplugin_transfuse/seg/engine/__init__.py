"""Segmentation runtime parts (mmseg registries)."""
from .hooks import SubsetSegVisualizationHook

__all__ = ['SubsetSegVisualizationHook']

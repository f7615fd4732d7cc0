"""Hooks registered into mmseg's ``HOOKS``."""
from .visualization_hook import SubsetSegVisualizationHook

__all__ = ['SubsetSegVisualizationHook']

"""Segmentation side: everything here registers into mmseg's registries."""
from . import datasets, evaluation, models  # noqa: F401

"""Segmentation side: everything here registers into mmseg's registries."""
from . import datasets, engine, evaluation, models  # noqa: F401

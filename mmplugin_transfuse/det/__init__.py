"""Detection side: everything here registers into mmdet's registries."""
from . import datasets, models  # noqa: F401

"""Mixed precision training on CPU: bfloat16 autocast, no loss scaling."""
from contextlib import contextmanager
from typing import Union

import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS
from torch import nn


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward runs under ``torch.autocast('cpu')``.

    mmengine's ``AmpOptimWrapper`` asserts a CUDA (or NPU/MLU/MUSA) device
    and always builds a ``GradScaler``; this wrapper is its CPU counterpart
    that ``tools/train.py --amp`` picks on a machine without CUDA. bfloat16
    keeps float32's exponent range, so no loss scaling is needed (gradients
    cannot underflow the way float16's do) and the optimizer step is the
    plain one. Autocast decides per operator what runs in low precision
    (matrix products, convolutions) and what stays float32 (reductions,
    norms, losses): see torch's autocast op lists.

    Args:
        dtype (str | torch.dtype): ``'bfloat16'`` (default) or
            ``'float16'`` (CPU float16 autocast is slow on most CPUs).
        **kwargs: ``OptimWrapper``'s arguments (``optimizer``,
            ``clip_grad``, ``accumulative_counts``).
    """

    valid_dtypes = ('bfloat16', 'float16')

    def __init__(self,
                 dtype: Union[str, torch.dtype] = 'bfloat16',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if isinstance(dtype, str):
            if dtype not in self.valid_dtypes:
                raise ValueError(f'CPUAmpOptimWrapper.dtype={dtype!r}: '
                                 f'expected one of {self.valid_dtypes}')
            dtype = getattr(torch, dtype)
        self.cast_dtype = dtype

    @contextmanager
    def optim_context(self, model: nn.Module):
        with super().optim_context(model), torch.autocast(
                'cpu', dtype=self.cast_dtype):
            yield

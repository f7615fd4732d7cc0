from .cpu_amp_optim_wrapper import CPUAmpOptimWrapper
from .nonfinite_grads import (describe_params, nonfinite_grad_params,
                              param_names)
from .nonfinite_skip_optim_wrapper import NonFiniteSkipOptimWrapper

__all__ = [
    'CPUAmpOptimWrapper', 'NonFiniteSkipOptimWrapper', 'describe_params',
    'nonfinite_grad_params', 'param_names'
]

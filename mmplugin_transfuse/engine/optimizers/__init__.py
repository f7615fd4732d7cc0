from .nonfinite_grads import (describe_params, nonfinite_grad_params,
                              param_names)
from .nonfinite_skip_optim_wrapper import NonFiniteSkipOptimWrapper

__all__ = [
    'NonFiniteSkipOptimWrapper', 'describe_params', 'nonfinite_grad_params',
    'param_names'
]

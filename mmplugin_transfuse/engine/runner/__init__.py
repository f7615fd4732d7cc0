from .checked_runner import CheckedRunner
from .config_paths import check_config_paths, stages_for_training
from .cpu_distributed import (cpu_distributed, cpu_model_wrapper_cfg,
                              init_cpu_process_group)

__all__ = [
    'CheckedRunner', 'check_config_paths', 'stages_for_training',
    'cpu_distributed', 'cpu_model_wrapper_cfg', 'init_cpu_process_group'
]

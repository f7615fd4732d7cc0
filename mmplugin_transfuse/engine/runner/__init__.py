from .checked_runner import CheckedRunner
from .config_paths import check_config_paths
from .cpu_distributed import cpu_model_wrapper_cfg, init_cpu_process_group
from .resume_checkpoint import (BrokenCheckpointError, checkpoint_problem,
                                resume_candidates)

__all__ = [
    'CheckedRunner', 'check_config_paths', 'cpu_model_wrapper_cfg',
    'init_cpu_process_group', 'BrokenCheckpointError', 'checkpoint_problem',
    'resume_candidates'
]

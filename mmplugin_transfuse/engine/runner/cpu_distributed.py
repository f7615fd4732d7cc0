"""Multi-process (DDP) training on machines without a GPU, with gloo.

mmengine 0.10.x assumes a GPU per process when ``launcher='pytorch'``:
``init_dist`` calls ``torch.cuda.set_device(LOCAL_RANK)`` (which raises
"Found no NVIDIA driver" on CPU-only machines) and ``Runner.wrap_model``
passes ``device_ids=[LOCAL_RANK]`` to ``DistributedDataParallel`` (which
refuses ``device_ids`` for a CPU module). These helpers provide the CPU
equivalents; :class:`~.checked_runner.CheckedRunner` is their only user, so
the nccl-to-gloo fallback is written once, here.
"""
import os

import torch.distributed as torch_dist


def init_cpu_process_group(launcher: str, backend: str = 'gloo') -> str:
    """``init_process_group`` from ``torchrun``'s environment, no GPU.

    Args:
        launcher (str): Only ``'pytorch'`` (``torchrun``/``dist_train.sh``)
            is supported on CPU.
        backend (str): ``'gloo'`` (``'nccl'`` needs GPUs and is replaced).

    Returns:
        str: The backend the process group uses.
    """
    if launcher != 'pytorch':
        raise RuntimeError(
            f'launcher={launcher!r} on a machine without CUDA: CPU '
            "distributed training supports launcher='pytorch' (torchrun, "
            'tools/dist_train.sh) only')
    if backend == 'nccl':
        backend = 'gloo'
    torch_dist.init_process_group(
        backend=backend,
        rank=int(os.environ['RANK']),
        world_size=int(os.environ['WORLD_SIZE']))
    return backend


def cpu_model_wrapper_cfg(find_unused_parameters: bool = False) -> dict:
    """``model_wrapper_cfg`` for a CPU module: ``device_ids=None``.

    The other arguments are those mmengine's ``Runner.wrap_model`` uses by
    default (``broadcast_buffers=False``).
    """
    return dict(
        type='MMDistributedDataParallel',
        device_ids=None,
        broadcast_buffers=False,
        find_unused_parameters=find_unused_parameters)

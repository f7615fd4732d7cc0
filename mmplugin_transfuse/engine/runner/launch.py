"""The command-line options ``tools/train.py`` and ``tools/test.py`` share.

Both scripts only turn options into config fields and build the runner the
config names (:class:`~.checked_runner.CheckedRunner` unless the config sets
another ``runner_type``): everything that happens before and around the run
(path checks, DDP on CPU) is the runner's, so it is the same for these
scripts and for mmseg's/mmdet's own ``train.py``/``test.py``.
"""
import argparse
import logging
import os
import os.path as osp
from typing import Any, Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper


def add_launch_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--work-dir``, ``--cfg-options``, ``--launcher``,
    ``--local-rank`` (the options of mmseg's/mmdet's scripts)."""
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value (see mmengine DictAction)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_launch_config(args: argparse.Namespace) -> Config:
    """Load ``args.config`` and apply the options of :func:`add_launch_args`.

    ``work_dir`` is ``--work-dir``, else the config's, else
    ``./work_dirs/<config name>``; ``runner_type`` defaults to
    ``'CheckedRunner'``. ``LOCAL_RANK`` is exported for launchers that pass
    ``--local-rank`` instead of setting it (``torch.distributed.launch``).

    Raises:
        FileNotFoundError: The config file does not exist (mmengine names
            it).
    """
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        './work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.setdefault('runner_type', 'CheckedRunner')
    return cfg


def enable_visualization(cfg: Config,
                         show_dir: Optional[str] = None,
                         show: bool = False,
                         wait_time: float = 2.) -> None:
    """Turn on the config's visualization hook (mmseg's, mmdet's or the
    package's :class:`SubsetSegVisualizationHook`) for ``--show`` /
    ``--show-dir``: every test image is drawn and written under
    ``show_dir`` (and shown in a window with ``show``).

    Raises:
        KeyError: The config has no ``default_hooks.visualization``.
    """
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise KeyError(
            'default_hooks.visualization is missing from the config; '
            '--show/--show-dir need a SegVisualizationHook or '
            'DetVisualizationHook there')
    hook['draw'] = True
    hook['interval'] = 1
    if show:
        hook['show'] = True
        hook['wait_time'] = wait_time
    if show_dir:
        if hook['type'].endswith('SegVisualizationHook') and \
                not hook['type'].endswith('SubsetSegVisualizationHook'):
            # mmseg's hook writes through the visualizer
            cfg.visualizer['save_dir'] = show_dir
        else:
            # <show_dir>/[<test set>/]<image file name>
            hook['test_out_dir'] = osp.abspath(show_dir)


def close_distributed() -> None:
    """End a successful distributed run: wait for every rank, then destroy
    the process group. Nothing happens outside a distributed run.

    Called by the tools after the run returned on this rank, never after an
    exception (a collective teardown would wait for a rank that is gone).
    Without the teardown, gloo threads still alive at interpreter exit can
    abort a process with "terminate called without an active exception"
    (pytorch/pytorch#190489). The barrier first: ranks leave the run at
    different times (rank 0 writes the checkpoints and computes the metric),
    and no rank should tear its connections down while another still
    talks to it.
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()


def apply_amp_arg(cfg: Config, enabled: bool) -> None:
    """Turn ``--amp`` into the optimizer wrapper's type.

    With CUDA: mmengine's ``AmpOptimWrapper`` (float16 autocast, dynamic
    loss scaling). Without CUDA: :class:`CPUAmpOptimWrapper` (bfloat16
    autocast on CPU, no loss scaling; mmengine's ``AmpOptimWrapper``
    refuses to be built without a GPU). A config that already names an AMP
    wrapper keeps it (with a warning).
    """
    if not enabled:
        return
    kind = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if kind in ('AmpOptimWrapper', 'CPUAmpOptimWrapper'):
        print_log(f'AMP is already enabled in the config ({kind}).',
                  logger='current', level=logging.WARNING)
    elif torch.cuda.is_available():
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    else:
        cfg.optim_wrapper.type = 'CPUAmpOptimWrapper'
        cfg.optim_wrapper.setdefault('dtype', 'bfloat16')


def add_compile_arg(parser: argparse.ArgumentParser) -> None:
    """Add ``--compile``: ``torch.compile`` the model's forward."""
    parser.add_argument(
        '--compile',
        action='store_true',
        help="torch.compile the model's forward (the config's `compile` "
        'dict, if any, gives the torch.compile options)')


def apply_compile_arg(cfg: Config, enabled: bool) -> None:
    """Turn ``--compile`` into ``cfg.forward_compile``: the
    ``torch.compile`` options for :func:`compile_model_forward`.

    The options are the config's own ``compile`` field when it is a dict
    (mmengine's field: ``True`` or ``torch.compile`` keyword arguments),
    else ``{}`` (inductor). mmengine 0.10.7 uses ``compile`` only in
    ``Runner.train()``, where it compiles ``model.train_step`` as a whole:
    the data pre-processor, the backward pass, the optimizer step and
    mmengine's logging (``MessageHub`` / ``HistoryBuffer.update``, whose
    counters change every iteration and make dynamo recompile it every
    iteration), and it leaves ``val``/``test`` eager. ``--compile`` therefore
    clears ``compile`` and compiles the model's ``forward`` instead, for
    training (``mode='loss'``) and for validation and testing
    (``mode='predict'``); the backward pass of the compiled graphs is
    compiled by AOTAutograd, the optimizer step stays eager.
    """
    if not enabled:
        return
    own = cfg.get('compile')
    cfg.forward_compile = dict(own) if isinstance(own, dict) else dict()
    cfg.compile = None


def compile_model_forward(runner: Any) -> None:
    """Compile the forward of ``runner``'s model with the options of
    ``cfg.forward_compile`` (nothing happens without that field).

    The model's ``forward`` is replaced on the instance by
    ``torch.compile(model.forward, **options)`` - the pattern of mmengine's
    ``Runner._maybe_compile`` - so parameter and checkpoint names stay as
    they are (``torch.compile(model)`` would prefix them with
    ``_orig_mod.``) and checkpoints load, resume and save as in eager
    runs. A DDP-wrapped model's inner module is compiled (DDP calls its
    ``forward``). ``forward(inputs, data_samples, mode)`` keeps one compiled
    graph set per ``mode`` and input size.
    """
    options = runner.cfg.get('forward_compile')
    if options is None or options is False:
        return
    options = dict() if options is True else dict(options)
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    model.forward = torch.compile(model.forward, **options)
    print_log(
        f'model forward compiled with torch.compile({options}); the first '
        'iteration of each input size and mode compiles (minutes on CPU)',
        logger='current')

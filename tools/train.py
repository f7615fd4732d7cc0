#!/usr/bin/env python
"""Train a TransFuse (mmseg) or SMCA-DETR (mmdet) config with mmengine's Runner.

The config's ``default_scope`` picks the library; ``custom_imports`` loads this
plugin (which also allow-lists the checkpoint types so ``--resume`` works with
``torch.load(weights_only=True)`` on torch >= 2.6). This is the script that
``mim train mmplugin_transfuse <config>`` runs; ``mim train mmseg|mmdet
<config path>`` runs those libraries' own train.py, which behaves the same.

The script only turns its options into config fields. What happens before
and around training (every path the config names checked first, one error
listing the missing ones; ``--launcher pytorch`` on a machine without CUDA
runs DDP with gloo) is :class:`mmplugin_transfuse.engine.CheckedRunner`'s
job, used unless the config sets another ``runner_type``; it also checks the
checkpoint ``--resume`` picks (the newest valid one of the work dir when the
newest is broken). On SIGTERM or SIGUSR1 the runtime's
``PreemptionCheckpointHook`` finishes the iteration, writes a checkpoint and
exits with status 75; ``--resume`` continues from it. ``--amp`` trains in
mixed precision (float16 with dynamic loss scaling on CUDA, bfloat16 on
CPU) and ``--compile`` compiles the model's forward with ``torch.compile``
(see :func:`mmplugin_transfuse.engine.runner.launch.apply_compile_arg`).

Example::

    python tools/train.py configs/transfuse/<config>.py --work-dir work_dirs/x
    python tools/train.py configs/transfuse/<config>.py --work-dir work_dirs/x --resume
    python tools/train.py <config> --amp --compile   # mixed precision, compiled
"""
import argparse
from typing import List, Optional

from mmengine.config import Config
from mmengine.registry import RUNNERS

from mmplugin_transfuse.engine.runner.launch import (add_compile_arg,
                                                     add_launch_args,
                                                     apply_amp_arg,
                                                     apply_compile_arg,
                                                     close_distributed,
                                                     compile_model_forward,
                                                     load_launch_config)


def setup_cfg(argv: Optional[List[str]] = None) -> Config:
    """Parse the command line and apply it to the config."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or (no value) from the '
        'latest checkpoint in the work dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='automatic mixed precision: float16 with loss scaling on CUDA, '
        'bfloat16 on CPU')
    add_compile_arg(parser)
    add_launch_args(parser)
    args = parser.parse_args(argv)
    cfg = load_launch_config(args)
    apply_amp_arg(cfg, args.amp)
    apply_compile_arg(cfg, args.compile)
    if args.resume is not None:
        cfg.resume = True
        # 'auto': the latest checkpoint of the work dir; a path is checked
        # by CheckedRunner with the config's other paths
        cfg.load_from = None if args.resume == 'auto' else args.resume
    return cfg


def main(argv: Optional[List[str]] = None) -> None:
    runner = RUNNERS.build(setup_cfg(argv))
    compile_model_forward(runner)  # --compile
    runner.train()
    close_distributed()  # after a successful run only


if __name__ == '__main__':
    main()

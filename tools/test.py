#!/usr/bin/env python
"""Evaluate a checkpoint of a TransFuse (mmseg) or SMCA-DETR (mmdet) config.

Like ``tools/train.py``, the script only turns its options into config
fields; :class:`mmplugin_transfuse.engine.CheckedRunner` checks the test
data, the evaluator's files and the checkpoint before anything is loaded,
and runs ``--launcher pytorch`` with gloo on a machine without CUDA.

Example::

    python tools/test.py configs/transfuse/<config>.py work_dirs/x/iter_1000.pth
    python tools/test.py <config> <ckpt> --show-dir vis   # writes predictions
    python tools/test.py <config> <ckpt> --compile        # torch.compile
"""
import argparse
from typing import List, Optional

from mmengine.config import Config
from mmengine.registry import RUNNERS

from mmplugin_transfuse.engine.runner.launch import (add_compile_arg,
                                                     add_launch_args,
                                                     apply_compile_arg,
                                                     close_distributed,
                                                     compile_model_forward,
                                                     enable_visualization,
                                                     load_launch_config)


def setup_cfg(argv: Optional[List[str]] = None) -> Config:
    """Parse the command line and apply it to the config."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out', help='dump raw predictions to this pickle file')
    parser.add_argument(
        '--show', action='store_true', help='show predictions in a window')
    parser.add_argument(
        '--show-dir', help='write images with predictions to this folder')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='seconds per --show image')
    add_compile_arg(parser)
    add_launch_args(parser)
    args = parser.parse_args(argv)
    cfg = load_launch_config(args)
    apply_compile_arg(cfg, args.compile)
    cfg.load_from = args.checkpoint  # CheckedRunner.test() checks it exists
    if args.show or args.show_dir:
        enable_visualization(cfg, args.show_dir, args.show, args.wait_time)
    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--out must be a .pkl file, got {args.out}')
        cfg.test_evaluator = [cfg.test_evaluator] if isinstance(
            cfg.test_evaluator, dict) else list(cfg.test_evaluator)
        cfg.test_evaluator.append(
            dict(type='mmengine.DumpResults', out_file_path=args.out))
    return cfg


def main(argv: Optional[List[str]] = None) -> None:
    runner = RUNNERS.build(setup_cfg(argv))
    # mmengine compiles nothing for test(): --compile compiles the forward
    compile_model_forward(runner)
    runner.test()
    close_distributed()  # after a successful run only


if __name__ == '__main__':
    main()

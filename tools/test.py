#!/usr/bin/env python
"""Evaluate a checkpoint of a TransFuse (mmseg) or SMCA-DETR (mmdet) config.

Example::

    python tools/test.py configs/transfuse/<config>.py work_dirs/x/iter_1000.pth
    python tools/test.py <config> <ckpt> --show-dir vis   # writes predictions
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmplugin_transfuse.engine import check_config_paths


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where the metrics log goes')
    parser.add_argument(
        '--out', help='dump raw predictions to this pickle file')
    parser.add_argument(
        '--show', action='store_true', help='show predictions in a window')
    parser.add_argument(
        '--show-dir', help='write images with predictions to this folder')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='seconds per --show image')
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
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def enable_visualization(cfg: Config, args: argparse.Namespace) -> None:
    """Turn on the config's visualization hook (mmseg's or mmdet's)."""
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise KeyError(
            'default_hooks.visualization is missing from the config; '
            '--show/--show-dir need a SegVisualizationHook or '
            'DetVisualizationHook there')
    hook['draw'] = True
    hook['interval'] = 1
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        if hook['type'].endswith('DetVisualizationHook'):
            hook['test_out_dir'] = osp.abspath(args.show_dir)
        else:  # SegVisualizationHook writes through the visualizer
            cfg.visualizer['save_dir'] = args.show_dir


def main() -> None:
    args = parse_args()
    for path, what in ((args.config, 'config'), (args.checkpoint,
                                                  'checkpoint')):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{what} file not found: {path}')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        enable_visualization(cfg, args)
    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--out must be a .pkl file, got {args.out}')
        cfg.test_evaluator = [cfg.test_evaluator] if isinstance(
            cfg.test_evaluator, dict) else list(cfg.test_evaluator)
        cfg.test_evaluator.append(
            dict(type='mmengine.DumpResults', out_file_path=args.out))
    if args.launcher != 'none':
        import torch
        if not torch.cuda.is_available():
            cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
            cfg.env_cfg.dist_cfg['backend'] = 'gloo'
    # CheckedRunner: path checks, and DDP on CPU (see tools/train.py)
    cfg.setdefault('runner_type', 'CheckedRunner')
    check_config_paths(cfg, ('test', ))
    runner = (Runner.from_cfg(cfg)
              if 'runner_type' not in cfg else RUNNERS.build(cfg))
    runner.test()


if __name__ == '__main__':
    main()

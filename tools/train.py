#!/usr/bin/env python
"""Train a TransFuse (mmseg) or SMCA-DETR (mmdet) config with mmengine's Runner.

The config's ``default_scope`` picks the library; ``custom_imports`` loads this
plugin (which also allow-lists the checkpoint types so ``--resume`` works with
``torch.load(weights_only=True)`` on torch >= 2.6). This is the script that
``mim train mmplugin_transfuse <config>`` runs; ``mim train mmseg|mmdet
<config path>`` runs those libraries' own train.py, which behaves the same.

Example::

    python tools/train.py configs/transfuse/<config>.py --work-dir work_dirs/x
    python tools/train.py configs/transfuse/<config>.py --work-dir work_dirs/x --resume
"""
import argparse
import logging
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmplugin_transfuse.engine import check_config_paths
from mmplugin_transfuse.engine.runner import stages_for_training


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or (no value) from the '
        'latest checkpoint in the work dir')
    parser.add_argument(
        '--amp', action='store_true', help='automatic mixed precision')
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


def setup_cfg(args: argparse.Namespace) -> Config:
    """Apply the command-line options to the config."""
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        if cfg.optim_wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
            print_log('AMP is already enabled in the config.',
                      logger='current', level=logging.WARNING)
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise FileNotFoundError(
                f'--resume checkpoint not found: {args.resume}')
        cfg.resume = True
        cfg.load_from = args.resume
    # NCCL needs GPUs: fall back to gloo for CPU-only distributed runs.
    if args.launcher != 'none':
        import torch
        if not torch.cuda.is_available():
            cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
            cfg.env_cfg.dist_cfg['backend'] = 'gloo'
    # CheckedRunner: path checks before anything is built, and DDP on CPU
    # (mmengine's Runner calls torch.cuda.set_device for any launcher).
    cfg.setdefault('runner_type', 'CheckedRunner')
    return cfg


def main() -> None:
    args = parse_args()
    cfg = setup_cfg(args)
    # a missing data root / load_from / pretrained file: one clear error
    # naming the config fields, before the model and datasets are built
    check_config_paths(cfg, stages_for_training(cfg))
    runner = (Runner.from_cfg(cfg)
              if 'runner_type' not in cfg else RUNNERS.build(cfg))
    runner.train()


if __name__ == '__main__':
    main()

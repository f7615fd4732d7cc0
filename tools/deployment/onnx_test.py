#!/usr/bin/env python
"""Evaluate an exported ONNX model with its config's own test loop.

The config's model is replaced by one that runs the ``.onnx`` file with ONNX
Runtime (:class:`ONNXRuntimeSegmentor` / :class:`ONNXRuntimeDetector`);
the test dataloader, evaluator and ``--show-dir`` drawing are the config's,
so the printed metrics are those of ``tools/test.py`` on the PyTorch
checkpoint. Batch size 1: the exported detectors treat each image as
filling its input (no padding).

Example::

    python tools/deployment/onnx_test.py CONFIG transfuse-s.onnx --show-dir vis
"""
import argparse
import os.path as osp
from typing import List, Optional

from mmengine.config import Config
from mmengine.registry import RUNNERS

from mmplugin_transfuse.deploy import require_deploy_extra, task_of
from mmplugin_transfuse.engine.runner.launch import (add_launch_args,
                                                     enable_visualization,
                                                     load_launch_config)


def setup_cfg(argv: Optional[List[str]] = None) -> Config:
    """Parse the command line; the config with the ONNX Runtime model."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='the config the model was exported '
                        'from')
    parser.add_argument('onnx_file', help='the .onnx file')
    parser.add_argument(
        '--show-dir', help='write images with predictions to this folder')
    parser.add_argument(
        '--threads', type=int, help='ONNX Runtime intra-op threads')
    add_launch_args(parser)
    args = parser.parse_args(argv)
    require_deploy_extra()
    if not osp.isfile(args.onnx_file):
        raise FileNotFoundError(f'onnx_file: no such file {args.onnx_file}')
    cfg = load_launch_config(args)
    model = dict(
        onnx_file=osp.abspath(args.onnx_file),
        data_preprocessor=cfg.model.data_preprocessor,
        num_threads=args.threads)
    if task_of(cfg) == 'seg':
        model.update(
            type='ONNXRuntimeSegmentor', decode_head=cfg.model.decode_head)
    else:
        model.update(type='ONNXRuntimeDetector')
    cfg.model = model
    imports = list(cfg.get('custom_imports', {}).get('imports', []))
    cfg.custom_imports = dict(
        imports=imports + ['mmplugin_transfuse.deploy'],
        allow_failed_imports=False)
    cfg.test_dataloader.batch_size = 1
    cfg.load_from = None
    if args.show_dir:
        enable_visualization(cfg, show_dir=args.show_dir)
    return cfg


def main(argv: Optional[List[str]] = None) -> dict:
    return RUNNERS.build(setup_cfg(argv)).test()


if __name__ == '__main__':
    main()

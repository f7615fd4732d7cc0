#!/usr/bin/env python
"""Export a TransFuse (mmseg) or DETR-family (mmdet) config to ONNX and check it.

The ONNX model takes ``input`` (N, C, H, W) float32, the output of the
config's data preprocessor, and returns ``seg_logits`` (the segmentor's
``mode='tensor'`` output) or ``dets`` (N, K, 5: x1, y1, x2, y2 in input
pixels, score) and ``labels`` (N, K) int64 with K = ``test_cfg.max_per_img``
(mmdeploy's names; the DETR post-processing is inside the graph).

After exporting, ONNX Runtime and PyTorch run on the same random input (with
``--dynamic`` also on a second size and batch) and the largest differences
are printed; the tool exits with status 1 when one exceeds 1e-4 relative on
logits / scores, 1e-3 of the image size on boxes, or a label differs.

Example::

    python tools/deployment/pytorch2onnx.py \
        configs/transfuse/transfuse-s_r34-deit-s_1xb16-30e_polyp-352x352.py \
        work_dirs/x/iter_1000.pth --out transfuse-s.onnx --dynamic
"""
import argparse
import sys
from typing import List, Optional, Tuple

import torch
from mmengine.config import Config, DictAction

import mmplugin_transfuse  # noqa: F401  registers the models
from mmplugin_transfuse.deploy import (build_model, compare_with_pytorch,
                                       export_onnx, export_wrapper,
                                       require_deploy_extra, size_divisor,
                                       task_of)
from mmplugin_transfuse.deploy.onnx_export import format_rows, output_names


def round_up(value: int, divisor: int) -> int:
    return -(-value // divisor) * divisor


def default_shape(cfg: Config, divisor: int) -> Tuple[int, int]:
    """``(H, W)``: the config's ``crop_size``, else its test ``Resize``
    scale, rounded up to ``divisor``."""
    if cfg.get('crop_size'):
        h, w = cfg.crop_size
    else:
        pipeline = cfg.get('test_pipeline') or cfg.test_dataloader.dataset.get(
            'pipeline', [])
        scales = [s['scale'] for s in pipeline if s.get('type') == 'Resize']
        if not scales:
            raise ValueError(
                f'{cfg.filename}: no crop_size and no Resize in the test '
                'pipeline to take the input size from; give --shape H W')
        scale = scales[0]
        w, h = (scale, scale) if isinstance(scale, int) else scale
        if h > w:  # keep_ratio scales are (long, short): landscape input
            h, w = w, h
    return round_up(int(h), divisor), round_up(int(w), divisor)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        'checkpoint',
        help='checkpoint file; "none" exports the random init (for trying '
        'the export itself)')
    parser.add_argument('--out', required=True, help='the .onnx file')
    parser.add_argument(
        '--shape',
        nargs=2,
        type=int,
        metavar=('H', 'W'),
        help='input size (default: the config\'s crop size or test resize '
        'scale, rounded up to the size divisor)')
    parser.add_argument(
        '--batch-size',
        type=int,
        default=1,
        help='N of the traced input (at least 2 with --dynamic)')
    parser.add_argument(
        '--dynamic',
        action='store_true',
        help='dynamic N, H and W (H, W multiples of the size divisor); '
        'checked on two batch sizes and input sizes')
    parser.add_argument('--opset', type=int, default=18, help='ONNX opset')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    require_deploy_extra()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    task = task_of(cfg)
    model = build_model(
        cfg, None if args.checkpoint.lower() == 'none' else args.checkpoint)
    divisor = size_divisor(cfg, model)
    h, w = args.shape or default_shape(cfg, divisor)
    channels = len(cfg.model.data_preprocessor.get('mean') or [0] * 3)
    # torch specialises a traced size of 1: a dynamic batch traces with 2
    n = max(args.batch_size, 2) if args.dynamic else args.batch_size
    wrapper = export_wrapper(cfg, model)
    names = output_names(cfg)
    gen = torch.Generator().manual_seed(0)
    example = torch.randn(n, channels, h, w, generator=gen)
    export_onnx(
        wrapper,
        example,
        args.out,
        names,
        dynamic_divisor=divisor if args.dynamic else None,
        opset=args.opset)
    print(f'wrote {args.out}: input {n}x{channels}x{h}x{w}'
          f'{" (dynamic N, H, W)" if args.dynamic else ""}'
          f', outputs {", ".join(names)}')
    inputs = [example]
    if args.dynamic:
        # another batch size and shape (W stays >= 2 cells, the traced
        # minimum)
        other_w = w - divisor if w >= 3 * divisor else w + divisor
        inputs.append(
            torch.randn(1, channels, h + divisor, other_w, generator=gen))
    rows = compare_with_pytorch(wrapper, args.out, inputs, names)
    print('ONNX Runtime vs PyTorch:')
    print(format_rows(rows))
    if not all(r['ok'] for r in rows):
        print('FAILED: ONNX Runtime differs from PyTorch beyond the limits',
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())

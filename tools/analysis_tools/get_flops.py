#!/usr/bin/env python
"""Parameters and FLOPs of the model of any mmdet or mmseg config.

Works for this package's configs, mmdet's / mmseg's own (``mmdet::...``,
``mmseg::...``) and yours: the model is built with random weights and traced
on one random ``(1, C, H, W)`` input; detectors get the image metadata of
that input, so no dataset is needed. Counting rules (fvcore-style, one
multiply-add = one FLOP, plus attention through ``baddbmm`` and
``scaled_dot_product_attention``): :mod:`mmplugin_transfuse.utils.flops`.

    python tools/analysis_tools/get_flops.py CONFIG [--shape H W]
    python tools/analysis_tools/get_flops.py \\
        configs/smca_detr/smca-detr_r50_8xb2-50e_coco.py --shape 800 1216
"""
import argparse
from typing import Any, Dict, List, Optional

from mmengine.config import DictAction

from mmplugin_transfuse.utils.flops import get_complexity


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config path, mmdet::... or mmseg::...')
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        default=None,
        metavar='H [W]',
        help='input height and width (default: a seg config\'s crop_size, '
        '800 1216 for detectors)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    args = parse_args(argv)
    result = get_complexity(args.config, args.shape, args.cfg_options)
    c, h, w = result['shape']
    plain = result['flops'] - result['attention_flops']
    print(f'config: {args.config}\nmodel: {result["model"]}\n'
          f'input shape: (1, {c}, {h}, {w})\n'
          f'params: {result["params"]:,} ({result["params"] / 1e6:.2f} M)\n'
          f'FLOPs: {result["flops"] / 1e9:.3f} G (1 multiply-add = 1 FLOP; '
          f'{plain / 1e9:.3f} G without the attention products of '
          'baddbmm / scaled_dot_product_attention)')
    return result


if __name__ == '__main__':
    main()

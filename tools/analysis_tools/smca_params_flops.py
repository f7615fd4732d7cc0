#!/usr/bin/env python
"""Params and FLOPs of SMCA-DETR (single and multi scale) next to mmdet's DETR.

A table over :func:`mmplugin_transfuse.utils.flops.get_complexity` (one
random ``(1, 3, H, W)`` image, default 800x1216; fvcore rules: one
multiply-add = one FLOP, the convention of DETR's and SMCA's "86 GFLOPs");
``get_flops.py`` counts any one config. Two FLOP columns:

* ``GFLOPs`` - mmengine's default operator set;
* ``GFLOPs +attn`` - plus the attention products mmengine has no rule for:
  ``aten::baddbmm`` (``Q K^T`` of ``nn.MultiheadAttention`` under an
  additive mask: SMCA's ``log G`` on the unfused path, or DETR's key
  padding) and ``aten::scaled_dot_product_attention``
  (:class:`SDPAMultiheadAttention`), counted as ``B*H*Lq*Lk*d`` for
  ``Q K^T`` plus ``B*H*Lq*Lk*d_v`` for the product with ``V``.

Example::

    python tools/analysis_tools/smca_params_flops.py
    python tools/analysis_tools/smca_params_flops.py --shape 800 1333 \\
        --configs configs/smca_detr/smca-detr_r50_8xb2-50e_coco.py \\
        mmdet::detr/detr_r50_8xb2-150e_coco.py
"""
import argparse
from typing import Any, Dict, List, Optional

from mmplugin_transfuse.utils.flops import get_complexity

# SMCA-R50, mmdet's DETR-R50 (100 queries) and DETR-R50 with SMCA's 300
# queries (the Table 2 baseline), so the prior's own cost is the 3rd-1st gap;
# then multi-scale SMCA: R50 2Intra-Multi-2Intra (paper 39.5M, 152 GFLOPs),
# 3Intra and 3Multi (37.9M), R101 (58M, 218 GFLOPs)
DEFAULT_CONFIGS = [
    'configs/smca_detr/smca-detr_r50_8xb2-50e_coco.py',
    'mmdet::detr/detr_r50_8xb2-150e_coco.py',
    'configs/smca_detr/detr_r50-focal-300q_8xb2-50e_coco.py',
    'configs/smca_detr/smca-detr-ms_r50_8xb2-50e_coco.py',
    'configs/smca_detr/smca-detr-ms-3intra_r50_8xb2-50e_coco.py',
    'configs/smca_detr/smca-detr-ms-3multi_r50_8xb2-50e_coco.py',
    'configs/smca_detr/smca-detr-ms_r101_8xb2-50e_coco.py',
]


def complexity(config: str, height: int, width: int) -> Dict[str, Any]:
    """``config``, ``model``, ``params``, ``flops`` (mmengine's operators)
    and ``flops_all`` (+ attention) on a random ``height x width`` image."""
    result = get_complexity(config, (height, width))
    return dict(
        config=config,
        model=result['model'],
        params=result['params'],
        flops=result['flops'] - result['attention_flops'],
        flops_all=result['flops'])


def main(argv: Optional[List[str]] = None) -> List[Dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--shape',
        type=int,
        nargs=2,
        default=[800, 1216],
        metavar=('H', 'W'),
        help='input height and width (default 800 1216)')
    parser.add_argument(
        '--configs',
        nargs='+',
        default=DEFAULT_CONFIGS,
        help='config paths (mmdet::... for mmdet\'s own configs)')
    args = parser.parse_args(argv)
    height, width = args.shape
    rows = [complexity(c, height, width) for c in args.configs]
    print(f'\ninput 1x3x{height}x{width} (random), fvcore counting '
          '(1 multiply-add = 1 FLOP)\n')
    cwidth = max(len(r['config']) for r in rows)
    mwidth = max(len(r['model']) for r in rows)
    header = (f'| {"model":<{mwidth}} | {"config":<{cwidth}} '
              f'| {"params (M)":>10} '
              f'| {"GFLOPs":>8} | {"GFLOPs +attn":>12} |')
    print(header)
    print('|' + '|'.join('-' * len(c) for c in header.split('|')[1:-1]) +
          '|')
    for r in rows:
        print(f'| {r["model"]:<{mwidth}} | {r["config"]:<{cwidth}} | '
              f'{r["params"] / 1e6:>10.2f} | {r["flops"] / 1e9:>8.1f} | '
              f'{r["flops_all"] / 1e9:>12.1f} |')
    return rows


if __name__ == '__main__':
    main()

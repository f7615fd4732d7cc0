#!/usr/bin/env python
"""Params and FLOPs of SMCA-DETR (single and multi scale) next to mmdet's DETR.

mmdet's ``tools/analysis_tools/get_flops.py`` reads an image from the
config's validation set, which does not exist on a machine without COCO, so
this tool feeds one random ``(1, 3, H, W)`` image (default 800x1216, as the
issue asks) through ``model(inputs, data_samples, mode='tensor')`` of each
config and counts with mmengine's analysis tools (fvcore rules: one
multiply-add = one FLOP, the convention of DETR's and SMCA's "86 GFLOPs").

Two FLOP columns are printed:

* ``GFLOPs`` - what :func:`mmengine.analysis.get_model_complexity_info`
  counts, i.e. mmengine's default operator set;
* ``GFLOPs +attn`` - the same plus the attention products mmengine has no
  handle for: ``aten::baddbmm`` (torch's ``nn.MultiheadAttention`` computes
  ``Q K^T`` with it whenever an additive ``attn_mask`` is given: SMCA's
  ``log G``, or DETR's key padding) and
  ``aten::scaled_dot_product_attention`` (the fused attention of the
  multi-scale SMCA model, :class:`SDPAMultiheadAttention`), counted as
  ``B*H*Lq*Lk*d`` multiply-adds for ``Q K^T`` plus ``B*H*Lq*Lk*d_v`` for
  the product with ``V``. Without it the first column misses all of the
  multi-scale model's attention products.

Both columns come from one trace (the first is the second minus the two
extra operators), and params are counted once per distinct tensor.

Example::

    python tools/analysis_tools/smca_params_flops.py
    python tools/analysis_tools/smca_params_flops.py --shape 800 1333 \
        --configs configs/smca_detr/smca-detr_r50_8xb2-50e_coco.py \
        mmdet::detr/detr_r50_8xb2-150e_coco.py
"""
import argparse
import math
import os.path as osp
from functools import partial
from typing import Any, Dict, List

import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine import Config
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.analysis.jit_handles import get_shape
from mmengine.config.utils import _get_package_and_cfg_path
from mmengine.registry import init_default_scope
from mmengine.utils import get_installed_path

import mmplugin_transfuse  # noqa: F401

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
# operators the "+attn" column adds to mmengine's defaults
ATTENTION_OPS = ('aten::baddbmm', 'aten::scaled_dot_product_attention')


def baddbmm_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """``baddbmm(bias, A, B)``: the ``A @ B`` multiply-adds (as ``bmm``)."""
    n, c, t = get_shape(inputs[1])
    d = get_shape(inputs[2])[-1]
    return n * c * t * d


def sdpa_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """``scaled_dot_product_attention(q, k, v, ...)``: ``Q K^T`` and ``A V``.

    ``q`` is ``(..., Lq, d)``, ``k`` ``(..., Lk, d)``, ``v`` ``(..., Lk,
    d_v)``; the leading dims (batch, heads) broadcast. The softmax and the
    additive mask are not counted (as for every other elementwise op here).
    """
    q_shape, k_shape, v_shape = (get_shape(x) for x in inputs[:3])
    batch = math.prod(
        max(a, b) for a, b in zip(q_shape[:-2], k_shape[:-2]))
    lq, d = q_shape[-2:]
    lk = k_shape[-2]
    return batch * lq * lk * d + batch * lq * lk * v_shape[-1]


def build_model(config: str) -> torch.nn.Module:
    """Build a config's model (``mmdet::`` paths from mmdet's own configs)."""
    if config.startswith('mmdet::'):
        package, rel = _get_package_and_cfg_path(config)
        config = osp.join(get_installed_path(package), '.mim', 'configs', rel)
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    cfg.model.backbone.init_cfg = None  # complexity does not need weights
    model = MODELS.build(cfg.model)
    return model.eval()


def complexity(config: str, height: int, width: int) -> Dict[str, Any]:
    """Params and FLOPs of one config on a random ``height x width`` image."""
    model = build_model(config)
    inputs = torch.randn(1, 3, height, width)
    sample = DetDataSample(
        metainfo=dict(
            img_shape=(height, width),
            batch_input_shape=(height, width),
            ori_shape=(height, width),
            scale_factor=(1.0, 1.0)))
    model.forward = partial(
        model.forward, data_samples=[sample], mode='tensor')
    with torch.no_grad():
        analyzer = FlopAnalyzer(model, (inputs, ))
        analyzer.set_op_handle('aten::baddbmm', baddbmm_flop_jit)
        analyzer.set_op_handle('aten::scaled_dot_product_attention',
                               sdpa_flop_jit)
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        flops_all = analyzer.total()
        by_op = analyzer.by_operator()
    extra = sum(by_op.get(op.split('::')[-1], 0) + by_op.get(op, 0)
                for op in ATTENTION_OPS)
    return dict(
        config=config,
        model=type(model).__name__,
        params=parameter_count(model)[''],
        flops=flops_all - extra,
        flops_all=flops_all)


def main() -> None:
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
    args = parser.parse_args()
    height, width = args.shape
    rows = [complexity(c, height, width) for c in args.configs]
    print(f'\ninput 1x3x{height}x{width} (random), fvcore counting '
          '(1 multiply-add = 1 FLOP)\n')
    width = max(len(r['config']) for r in rows)
    mwidth = max(len(r['model']) for r in rows)
    header = (f'| {"model":<{mwidth}} | {"config":<{width}} '
              f'| {"params (M)":>10} '
              f'| {"GFLOPs":>8} | {"GFLOPs +attn":>12} |')
    print(header)
    print('|' + '|'.join('-' * len(c) for c in header.split('|')[1:-1]) +
          '|')
    for r in rows:
        print(f'| {r["model"]:<{mwidth}} | {r["config"]:<{width}} | '
              f'{r["params"] / 1e6:>10.2f} | {r["flops"] / 1e9:>8.1f} | '
              f'{r["flops_all"] / 1e9:>12.1f} |')

if __name__ == '__main__':
    main()

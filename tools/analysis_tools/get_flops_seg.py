#!/usr/bin/env python
"""Parameters and FLOPs of the model of any mmseg config.

mmseg 1.2.2's ``tools/analysis_tools/get_flops.py`` fails with mmengine
0.10.7 (``"input_shape" and "inputs" cannot be both set``). This tool does
its job for any segmentation config (this package's, mmseg's ``mmseg::``
ones, or your own): the model is built with random weights (pretrained
entries removed, nothing is downloaded), put in eval mode and traced on one
random ``(1, C, H, W)`` input through ``model(inputs, mode='tensor')``
(backbone, neck, decode head; no auxiliary head, no resize to the input).

FLOPs are fvcore-style (one multiply-add = one FLOP, as mmseg's tool and
the papers), counted by mmengine's ``FlopAnalyzer`` plus rules for fused
attention (``scaled_dot_product_attention``, timm / torch transformers) and
masked attention (``baddbmm``), which mmengine would count as free.

    python tools/analysis_tools/get_flops_seg.py CONFIG [--shape 352 352]
    python tools/analysis_tools/get_flops_seg.py \\
        mmseg::unet/unet-s5-d16_fcn_4xb4-40k_hrf-256x256.py --shape 352
"""
import argparse
import os.path as osp
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

from mmengine.config import DictAction

sys.path.insert(
    0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                'benchmark'))
import benchmark_utils as common  # noqa: E402


def seg_complexity(config: str,
                   shape: Optional[Sequence[int]] = None,
                   cfg_options: Optional[Dict[str, Any]] = None
                   ) -> Dict[str, Any]:
    """``{'params', 'flops', 'shape'}`` of ``config``'s segmentor.

    ``shape`` is ``(H, W)`` (or ``(S,)`` for a square); default: the
    config's ``crop_size``.
    """
    cfg = common.load_config(config, cfg_options)
    if common.task_of(cfg) != 'seg':
        raise ValueError(f'{config}: default_scope is {cfg.default_scope!r};'
                         " this tool counts mmseg ('mmseg') models, use "
                         "mmdet's get_flops.py for detectors")
    if shape is None:
        if 'crop_size' not in cfg:
            raise ValueError(f'{config} has no crop_size; give --shape H W')
        shape = cfg.crop_size
    shape = tuple(int(s) for s in shape)
    if len(shape) == 1:
        shape = shape * 2
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f'--shape {shape}: expected H W (positive)')
    model = common.build_model(cfg)
    inputs, samples = common.make_inputs(cfg, 1, *shape)
    flops = common.flop_analyzer_total(model, inputs, samples)
    return dict(
        params=common.count_params(model), flops=flops,
        shape=(inputs.shape[1], ) + shape)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='segmentation config (or mmseg::...)')
    parser.add_argument('--shape', type=int, nargs='+', default=None,
                        help='input H [W] (default: the config crop_size)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Tuple[int, int]:
    args = parse_args(argv)
    result = seg_complexity(args.config, args.shape, args.cfg_options)
    c, h, w = result['shape']
    print(f'config: {args.config}\ninput shape: (1, {c}, {h}, {w})\n'
          f'params: {result["params"]:,} ({result["params"] / 1e6:.2f} M)\n'
          f'FLOPs: {result["flops"] / 1e9:.3f} G '
          '(1 multiply-add = 1 FLOP)')
    return result['params'], result['flops']


if __name__ == '__main__':
    main()

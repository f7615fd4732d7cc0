"""Parameters and FLOPs of TransFuse-S / -L / -L* (the papers' table).

A table over :func:`mmplugin_transfuse.utils.flops.get_complexity` (eval
mode, the fused head only, batch 1, fvcore counting incl. the fused
attention of timm's blocks); ``get_flops.py`` counts any one config.

    python tools/analysis_tools/transfuse_params_flops.py            # S/L/L*
    python tools/analysis_tools/transfuse_params_flops.py CONFIG \\
        --shape 352 352
"""
import argparse
import os.path as osp
from typing import List, Optional, Sequence, Tuple

from mmplugin_transfuse.utils.flops import get_complexity

DEFAULTS: List[Tuple[str, str, Tuple[int, int]]] = [
    ('TransFuse-S', 'configs/transfuse/'
     'transfuse-s_r34-deit-s_1xb16-30e_isic2017-192x256.py', (192, 256)),
    ('TransFuse-L', 'configs/transfuse/'
     'transfuse-l_r50-deit-b_1xb16-30e_isic2017-192x256.py', (192, 256)),
    ('TransFuse-L*', 'configs/transfuse/'
     'transfuse-l-star_r50-deit-b384_1xb16-30e_isic2017-384x512.py', (384,
                                                                      512)),
]


def complexity(config: str,
               shape: Optional[Sequence[int]] = None) -> Tuple[int, int]:
    """(parameters, FLOPs) of ``config``'s model on an ``(H, W)`` input
    (default: the config's ``crop_size``)."""
    result = get_complexity(config, shape)
    return result['params'], result['flops']


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'config', nargs='?', help='one config (default: S/L/L*)')
    parser.add_argument(
        '--shape',
        type=int,
        nargs=2,
        default=None,
        help='input H W (default: the config\'s crop)')
    args = parser.parse_args(argv)
    if args.config:
        runs = [(osp.basename(args.config), args.config, args.shape)]
    else:
        runs = [(n, c, args.shape or s) for n, c, s in DEFAULTS]
    print(f'{"model":<14}{"input":>10}{"params":>16}{"GFLOPs":>10}')
    for name, config, shape in runs:
        result = get_complexity(config, shape)
        _, h, w = result['shape']
        print(f'{name:<14}{f"{h}x{w}":>10}{result["params"]:>16,}'
              f'{result["flops"] / 1e9:>10.2f}')


if __name__ == '__main__':
    main()

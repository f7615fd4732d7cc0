"""Parameters and FLOPs of TransFuse models (mmengine's complexity counter).

mmseg 1.2.2's ``tools/analysis_tools/get_flops.py`` fails with mmengine
0.10.7; this script calls ``mmengine.analysis.get_model_complexity_info`` on
the model of each config directly (eval mode, the fused head only, batch 1).
FLOPs are fvcore-style (one fused multiply-add counts as one FLOP); the
counter has no rule for ``aten::scaled_dot_product_attention`` (timm's fused
attention), so one is added here: ``2 * B * heads * N * M * d`` for
``QK^T`` and ``attn @ V``. Element-wise ops, norms and resizes are not
counted (as in mmseg/mmdet's get_flops).

    python tools/analysis_tools/transfuse_params_flops.py            # S/L/L*
    python tools/analysis_tools/transfuse_params_flops.py CONFIG \
        --shape 352 352
"""
import argparse
import os.path as osp
from typing import List, Sequence, Tuple

import torch
from mmengine import Config
from mmengine.analysis import FlopAnalyzer
from mmengine.analysis.jit_handles import get_shape
from mmengine.registry import init_default_scope

import mmplugin_transfuse  # noqa: F401
from mmseg.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULTS: List[Tuple[str, str, Tuple[int, int]]] = [
    ('TransFuse-S', 'configs/transfuse/'
     'transfuse-s_r34-deit-s_1xb16-30e_isic2017-192x256.py', (192, 256)),
    ('TransFuse-L', 'configs/transfuse/'
     'transfuse-l_r50-deit-b_1xb16-30e_isic2017-192x256.py', (192, 256)),
    ('TransFuse-L*', 'configs/transfuse/'
     'transfuse-l-star_r50-deit-b384_1xb16-30e_isic2017-384x512.py', (384,
                                                                      512)),
]


def sdpa_flop_jit(inputs: list, outputs: list) -> int:
    """FLOPs of ``scaled_dot_product_attention(q, k, v)``."""
    q_shape, k_shape = get_shape(inputs[0]), get_shape(inputs[1])
    *batch, n, d = q_shape
    m = k_shape[-2]
    num = 1
    for b in batch:
        num *= b
    return 2 * num * n * m * d


def complexity(config: str, shape: Sequence[int]) -> Tuple[int, int]:
    """(parameters, FLOPs) of ``config``'s model on a ``(C, H, W)`` input."""
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model).eval()
    backbone = cfg.model.backbone
    branch = backbone.get('cnn') or backbone.get('global_branch')
    in_channels = branch.get('in_channels', 3)
    inputs = torch.randn(1, in_channels, *shape)
    with torch.no_grad():
        analyzer = FlopAnalyzer(model, inputs).set_op_handle(
            'aten::scaled_dot_product_attention', sdpa_flop_jit)
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        flops = analyzer.total()
    return sum(p.numel() for p in model.parameters()), flops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'config', nargs='?', help='one config (default: S/L/L*)')
    parser.add_argument(
        '--shape',
        type=int,
        nargs=2,
        default=None,
        help='input H W (default: the config\'s crop)')
    args = parser.parse_args()
    if args.config:
        shape = args.shape or Config.fromfile(args.config).get(
            'crop_size', (192, 256))
        runs = [(osp.basename(args.config), args.config, tuple(shape))]
    else:
        runs = [(n, osp.join(REPO, c), tuple(args.shape or s))
                for n, c, s in DEFAULTS]
    print(f'{"model":<14}{"input":>10}{"params":>16}{"GFLOPs":>10}')
    for name, config, shape in runs:
        params, flops = complexity(config, shape)
        print(f'{name:<14}{f"{shape[0]}x{shape[1]}":>10}{params:>16,}'
              f'{flops / 1e9:>10.2f}')


if __name__ == '__main__':
    main()

"""Convert ImageNet checkpoints (timm DeiT, torchvision/timm ResNet, VGG-16)
to the key layout of ``TransFuseBackbone``.

The result holds ``cnn.*`` and ``global_branch.*`` keys (class token, heads,
``layer4``/``fc`` and extra blocks dropped; position embedding resized to the
configured grid; first-layer kernels adapted to ``--in-channels``) and can be
given to the backbone as one file::

    python tools/model_converters/transfuse_pretrained.py \
        --resnet pretrained/resnet34-43635321.pth \
        --deit pretrained/deit_small_patch16_224-cd65a155.pth \
        --depth 8 --pos-grid 12 16 pretrained/transfuse_s_imagenet.pth
    # config: model.backbone.init_cfg = dict(type='Pretrained',
    #     checkpoint='pretrained/transfuse_s_imagenet.pth')

(The branches also read the raw files directly through their own
``init_cfg``; this tool makes one reusable file and shows what is dropped.)
"""
import argparse
from typing import Dict, List, Optional, Sequence, Tuple

import torch

from mmplugin_transfuse.seg.models.utils import (convert_deit_checkpoint,
                                                 convert_resnet_checkpoint,
                                                 convert_vgg_checkpoint,
                                                 load_local_state_dict)


def convert(resnet: Optional[str] = None,
            deit: Optional[str] = None,
            vgg: Optional[str] = None,
            depth: int = 8,
            pos_grid: Sequence[int] = (12, 16),
            in_channels: int = 3) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Backbone state dict from local branch checkpoints.

    Returns:
        tuple: (state dict with ``cnn.``/``global_branch.`` prefixes,
        dropped source keys with their file's prefix).
    """
    if deit and vgg:
        raise ValueError('give either --deit or --vgg (both are the '
                         '`global_branch`)')
    out: Dict[str, torch.Tensor] = {}
    dropped: List[str] = []
    if resnet:
        sd, drop = convert_resnet_checkpoint(
            load_local_state_dict(resnet, '--resnet'), in_channels)
        out.update({f'cnn.{k}': v for k, v in sd.items()})
        dropped += [f'resnet:{k}' for k in drop]
    if deit:
        sd, drop = convert_deit_checkpoint(
            load_local_state_dict(deit, '--deit'), depth, pos_grid,
            in_channels)
        out.update({f'global_branch.{k}': v for k, v in sd.items()})
        dropped += [f'deit:{k}' for k in drop]
    if vgg:
        sd, drop = convert_vgg_checkpoint(
            load_local_state_dict(vgg, '--vgg'), 24, in_channels)
        out.update({f'global_branch.{k}': v for k, v in sd.items()})
        dropped += [f'vgg:{k}' for k in drop]
    if not out:
        raise ValueError('nothing to convert: give --resnet and/or --deit '
                         '(or --vgg)')
    return out, dropped


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out', help='output file')
    parser.add_argument('--resnet', help='torchvision/timm ResNet .pth')
    parser.add_argument('--deit', help='timm/DeiT ViT .pth')
    parser.add_argument('--vgg', help='torchvision vgg16 .pth (Table 5)')
    parser.add_argument(
        '--depth',
        type=int,
        default=8,
        help='transformer blocks kept (8 for -S, 12 for -L)')
    parser.add_argument(
        '--pos-grid',
        type=int,
        nargs=2,
        default=(12, 16),
        help='token grid of the stored pos-embed (h w)')
    parser.add_argument('--in-channels', type=int, default=3)
    args = parser.parse_args(argv)
    state_dict, dropped = convert(args.resnet, args.deit, args.vgg, args.depth,
                                  args.pos_grid, args.in_channels)
    torch.save({'state_dict': state_dict}, args.out)
    print(f'wrote {len(state_dict)} tensors to {args.out}; dropped '
          f'{len(dropped)} keys not used by TransFuse: {dropped}')


if __name__ == '__main__':
    main()

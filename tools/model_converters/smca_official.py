#!/usr/bin/env python
"""Convert an official SMCA-DETR checkpoint to this package's key layout.

The reference code (gaopengcuhk/SMCA-DETR, single scale) stores a DETR-style
state dict under ``model``. Its keys map one-to-one onto :class:`SMCADETR`
built from ``configs/smca_detr/smca-detr_r50_8xb2-50e_coco.py`` (or the R101
/ DC5 / ablation configs)::

    backbone.0.body.*                      -> backbone.*  (+ BN counters)
    input_proj.*                           -> neck.convs.0.conv.*
    query_embed.weight                     -> query_embedding.weight
    transformer.{encoder,decoder}.layers.i.
        self_attn.*                        -> self_attn.attn.*
        multihead_attn.*                   -> cross_attn.attn.*
        linear1.* / linear2.*              -> ffn.layers.0.0.* / ffn.layers.1.*
        norm1/norm2/norm3.*                -> norms.0/norms.1/norms.2.*
        norm4.*                            -> norm4.*
        point1.layers.k.* (layer 0)        -> center_mlp.layers.k.*
        point2.* / point3.*                -> offset_fc.* / scale_fc.*
    transformer.decoder.norm.*             -> decoder.post_norm.*
    class_embed.*                          -> bbox_head.fc_cls.*
    bbox_embed.layers.{0,1,2}.*            -> bbox_head.reg_ffn.layers.0.0.*,
                                              bbox_head.reg_ffn.layers.1.*,
                                              bbox_head.fc_reg.*

The reference classifier is indexed by COCO category id (91 ids + 1 extra
row, sigmoid focal loss); mmdet's ``CocoDataset`` uses the 80 contiguous
labels, so by default the rows of the 80 used category ids are kept
(``--keep-all-classes`` copies the classifier unchanged, for a model built
with that many classes).

Example::

    python tools/model_converters/smca_official.py \
        smca_single_scale_50e.pth checkpoints/smca-detr_r50_8xb2-50e_coco.pth
"""
import argparse
import re
from collections import OrderedDict
from typing import Dict, List, Optional

import torch

# COCO category ids of mmdet's 80 CocoDataset classes, in label order.
COCO_CATEGORY_IDS = [
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
    23, 24, 25, 27, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44,
    46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64,
    65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88,
    89, 90
]

# (pattern on the official key, replacement) applied in order; first match wins
_LAYER_RULES = [
    (r'^self_attn\.(.*)$', r'self_attn.attn.\1'),
    (r'^multihead_attn\.(.*)$', r'cross_attn.attn.\1'),
    (r'^linear1\.(.*)$', r'ffn.layers.0.0.\1'),
    (r'^linear2\.(.*)$', r'ffn.layers.1.\1'),
    (r'^norm1\.(.*)$', r'norms.0.\1'),
    (r'^norm2\.(.*)$', r'norms.1.\1'),
    (r'^norm3\.(.*)$', r'norms.2.\1'),
    (r'^norm4\.(.*)$', r'norm4.\1'),
    (r'^point1\.(.*)$', r'center_mlp.\1'),
    (r'^point2\.(.*)$', r'offset_fc.\1'),
    (r'^point3\.(.*)$', r'scale_fc.\1'),
]
_TOP_RULES = [
    (r'^backbone\.0\.body\.(.*)$', r'backbone.\1'),
    (r'^input_proj\.(.*)$', r'neck.convs.0.conv.\1'),
    (r'^query_embed\.weight$', r'query_embedding.weight'),
    (r'^transformer\.decoder\.norm\.(.*)$', r'decoder.post_norm.\1'),
    (r'^class_embed\.(.*)$', r'bbox_head.fc_cls.\1'),
    (r'^bbox_embed\.layers\.0\.(.*)$', r'bbox_head.reg_ffn.layers.0.0.\1'),
    (r'^bbox_embed\.layers\.1\.(.*)$', r'bbox_head.reg_ffn.layers.1.\1'),
    (r'^bbox_embed\.layers\.2\.(.*)$', r'bbox_head.fc_reg.\1'),
]
_LAYER_KEY = re.compile(
    r'^transformer\.(encoder|decoder)\.layers\.(\d+)\.(.*)$')


def convert_key(key: str) -> str:
    """The :class:`SMCADETR` key of one official key.

    Raises:
        KeyError: for a key the reference single-scale model does not have.
    """
    match = _LAYER_KEY.match(key)
    if match:
        coder, idx, rest = match.groups()
        for pattern, repl in _LAYER_RULES:
            if re.match(pattern, rest):
                return f'{coder}.layers.{idx}.' + re.sub(pattern, repl, rest)
    else:
        for pattern, repl in _TOP_RULES:
            if re.match(pattern, key):
                return re.sub(pattern, repl, key)
    raise KeyError(f'smca_official: unexpected key {key!r} in the official '
                   'checkpoint (not part of single-scale SMCA-DETR)')


def convert(state_dict: Dict[str, torch.Tensor],
            keep_all_classes: bool = False,
            category_ids: Optional[List[int]] = None
            ) -> 'OrderedDict[str, torch.Tensor]':
    """Convert an official SMCA-DETR state dict.

    Args:
        state_dict (dict): The official ``checkpoint['model']``.
        keep_all_classes (bool): Copy the classifier as is (no remapping).
        category_ids (list[int], optional): Classifier rows to keep, in label
            order. Defaults to the 80 COCO category ids.

    Returns:
        OrderedDict: State dict of :class:`SMCADETR`, including the
        ``num_batches_tracked`` buffers mmdet's BatchNorm layers have.
    """
    out: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    for key, value in state_dict.items():
        new_key = convert_key(key)
        if new_key.startswith('bbox_head.fc_cls.') and not keep_all_classes:
            ids = category_ids or COCO_CATEGORY_IDS
            if value.shape[0] <= max(ids):
                raise ValueError(
                    f'smca_official: {key} has {value.shape[0]} rows, too '
                    f'few for category id {max(ids)}; pass '
                    '--keep-all-classes for a non-COCO checkpoint')
            value = value[ids]
        out[new_key] = value
        # torchvision's FrozenBatchNorm2d has no counter; mmdet's BN does
        if new_key.startswith('backbone.') and new_key.endswith(
                '.running_mean'):
            out[new_key[:-len('running_mean')] +
                'num_batches_tracked'] = torch.tensor(0, dtype=torch.long)
    return out


def load_official(path: str) -> Dict[str, torch.Tensor]:
    """The state dict inside an official checkpoint file."""
    ckpt = torch.load(path, map_location='cpu', weights_only=True)
    if isinstance(ckpt, dict) and 'model' in ckpt:
        return ckpt['model']
    if isinstance(ckpt, dict) and 'state_dict' in ckpt:
        return ckpt['state_dict']
    if isinstance(ckpt, dict) and all(
            isinstance(v, torch.Tensor) for v in ckpt.values()):
        return ckpt
    raise ValueError(f'smca_official: {path} holds no `model` state dict')


def main() -> None:
    parser = argparse.ArgumentParser(
        description='Convert an official SMCA-DETR checkpoint to mmdet')
    parser.add_argument('src', help='official checkpoint (.pth)')
    parser.add_argument('dst', help='output checkpoint for SMCADETR')
    parser.add_argument(
        '--keep-all-classes',
        action='store_true',
        help='copy the classifier unchanged instead of keeping the rows of '
        'the 80 COCO category ids')
    args = parser.parse_args()
    state_dict = convert(load_official(args.src), args.keep_all_classes)
    torch.save(
        dict(state_dict=state_dict, meta=dict(converted_from=args.src)),
        args.dst)
    print(f'saved {len(state_dict)} tensors to {args.dst}')


if __name__ == '__main__':
    main()

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
        point2.* / point3.*                -> prior.offset_fc.* /
                                              prior.scale_fc.*
    transformer.decoder.norm.*             -> decoder.post_norm.*
    class_embed.*                          -> bbox_head.fc_cls.*
    bbox_embed.layers.{0,1,2}.*            -> bbox_head.reg_ffn.layers.0.0.*,
                                              bbox_head.reg_ffn.layers.1.*,
                                              bbox_head.fc_reg.*

Official training runs save ``{'model', 'optimizer', 'lr_scheduler', 'epoch',
'args'}`` (``main.py``), ``args`` being the run's ``argparse.Namespace``. The
file is read with ``torch.load(weights_only=True)`` and only
``argparse.Namespace`` allow-listed (``torch.serialization.safe_globals``),
so no other pickled object can run code. When ``args`` is there, it is
checked against the target config (``--config``, default the R50 config)
before anything is written: ``num_queries``, the scale type
(``--dynamic_scale`` ``type1..type4`` = ``scale_mode`` ``Fixed`` /
``Single`` / ``Indep`` / ``Cov``, always one prior per head), ``dilation``
(DC5 backbone), ``backbone`` (``resnet50``/``resnet101``), the layer counts,
width, heads, FFN width and ``smooth`` (= ``beta``); a mismatch stops the
conversion with both values named. ``type4`` needs no key change:
``point3`` (24 outputs, 8 heads x ``(x, y, xy)``) maps onto
``prior.scale_fc`` of ``scale_mode='Cov'`` as it is.

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
import os.path as osp
import re
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Tuple

import torch
from mmengine import Config

DEFAULT_CONFIG = osp.join(
    osp.dirname(osp.abspath(__file__)), '..', '..', 'configs', 'smca_detr',
    'smca-detr_r50_8xb2-50e_coco.py')
# reference `--dynamic_scale` -> this package's `scale_mode`
SCALE_TYPES = dict(type1='Fixed', type2='Single', type3='Indep', type4='Cov')

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
    (r'^point2\.(.*)$', r'prior.offset_fc.\1'),
    (r'^point3\.(.*)$', r'prior.scale_fc.\1'),
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


def load_official(
        path: str) -> Tuple[Dict[str, torch.Tensor], Optional[Any]]:
    """The state dict inside an official checkpoint file, and its ``args``.

    Loads with ``weights_only=True``; ``argparse.Namespace`` (the ``args``
    the official ``main.py`` saves) is the only class allowed besides
    tensors and plain containers/values.

    Returns:
        tuple: ``(state_dict, args)``, ``args`` None for a bare state dict.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'smca_official: no checkpoint file {path}')
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as err:  # noqa: BLE001 (re-raised with the file name)
        raise ValueError(
            f'smca_official: cannot read {path} with weights_only=True '
            f'(only tensors, plain values and argparse.Namespace are '
            f'allowed): {err}') from err
    args = ckpt.get('args') if isinstance(ckpt, dict) else None
    if args is not None and not isinstance(args, argparse.Namespace):
        raise ValueError(f'smca_official: {path}: `args` must be the '
                         'argparse.Namespace of the official main.py, got '
                         f'{type(args).__name__}')
    if isinstance(ckpt, dict) and 'model' in ckpt:
        return ckpt['model'], args
    if isinstance(ckpt, dict) and 'state_dict' in ckpt:
        return ckpt['state_dict'], args
    if isinstance(ckpt, dict) and ckpt and all(
            isinstance(v, torch.Tensor) for v in ckpt.values()):
        return ckpt, None
    raise ValueError(f'smca_official: {path} holds no `model` state dict')


def _config_values(cfg: Config) -> Dict[str, Any]:
    """What the official ``args`` can be compared with, read from a config.

    Missing fields take the defaults of :class:`SMCADETR` and its decoder.
    """
    model = cfg.model
    backbone = model.backbone
    layer_cfg = model.decoder.get('layer_cfg', {})
    dilations = tuple(backbone.get('dilations', (1, 1, 1, 1)))
    strides = tuple(backbone.get('strides', (1, 2, 2, 2)))
    # ResNet and TorchvisionDilatedResNet (DC5) share torchvision's weights
    backbone_name = (f'resnet{backbone.depth}'
                     if backbone.type.endswith('ResNet') else backbone.type)
    return {
        'num_queries': model.get('num_queries'),
        'dynamic_scale': (layer_cfg.get('scale_mode', 'Indep'),
                          layer_cfg.get('head_shared_prior', False)),
        'dilation': dilations[-1] > 1 and strides[-1] == 1,
        'backbone': backbone_name,
        'enc_layers': model.encoder.num_layers,
        'dec_layers': model.decoder.num_layers,
        'hidden_dim': layer_cfg.cross_attn_cfg.embed_dims,
        'nheads': layer_cfg.cross_attn_cfg.num_heads,
        'dim_feedforward': layer_cfg.ffn_cfg.feedforward_channels,
        'smooth': float(layer_cfg.get('beta', 8.0)),
    }


# args field -> config field it is compared with (for the messages)
_CONFIG_FIELDS = {
    'num_queries': 'model.num_queries',
    'dynamic_scale': 'model.decoder.layer_cfg.scale_mode / head_shared_prior',
    'dilation': 'model.backbone strides/dilations (DC5)',
    'backbone': 'model.backbone (type/depth)',
    'enc_layers': 'model.encoder.num_layers',
    'dec_layers': 'model.decoder.num_layers',
    'hidden_dim': 'model.decoder.layer_cfg.cross_attn_cfg.embed_dims',
    'nheads': 'model.decoder.layer_cfg.cross_attn_cfg.num_heads',
    'dim_feedforward': 'model.decoder.layer_cfg.ffn_cfg.feedforward_channels',
    'smooth': 'model.decoder.layer_cfg.beta',
}


def check_args(args: argparse.Namespace, cfg: Config,
               cfg_name: str = 'the config') -> List[str]:
    """Compare an official run's ``args`` with the target config.

    Raises:
        ValueError: naming every field whose official value differs from
            the config's (both values), or an unknown ``dynamic_scale``.

    Returns:
        list[str]: Notes that do not stop the conversion (e.g. DC5 centre
        units).
    """
    want = _config_values(cfg)
    problems = []
    for field, cfg_value in want.items():
        if not hasattr(args, field):
            continue  # older runs may lack a field; nothing to compare
        official = getattr(args, field)
        if field == 'dynamic_scale':
            if official not in SCALE_TYPES:
                raise ValueError(
                    f'smca_official: args.dynamic_scale={official!r} is not '
                    f'one of {sorted(SCALE_TYPES)}')
            # the reference code has one prior per head, never head-shared
            official = (SCALE_TYPES[official], False)
            shown_official = (f'{getattr(args, field)!r} (scale_mode='
                              f'{official[0]!r}, one prior per head)')
            shown_cfg = (f'scale_mode={cfg_value[0]!r}, head_shared_prior='
                         f'{cfg_value[1]!r}')
        else:
            if field == 'smooth':
                official = float(official)
            shown_official, shown_cfg = repr(official), repr(cfg_value)
        if official != cfg_value:
            problems.append(f'args.{field}={shown_official} but '
                            f'{_CONFIG_FIELDS[field]}={shown_cfg}')
    if problems:
        raise ValueError(
            f'smca_official: the checkpoint does not match {cfg_name}:\n  ' +
            '\n  '.join(problems) + '\npass the matching config with '
            '--config')
    notes = []
    if getattr(args, 'dilation', False) and cfg.model.backbone.type != \
            'TorchvisionDilatedResNet':
        notes.append(
            'note: official DC5 runs use torchvision\'s dilated ResNet (the '
            'first block of the dilated stage is not dilated); set '
            'model.backbone.type=\'TorchvisionDilatedResNet\' for the '
            'official outputs')
    if getattr(args, 'dilation', False) and cfg.model.get(
            'center_stride') != 32:
        notes.append(
            'note: official DC5 runs keep the centre in units of 32 px (a '
            'hard-coded /32); set model.center_stride=32 to get the '
            'official outputs from this checkpoint (the package default '
            'uses the real stride 16)')
    return notes


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(
        description='Convert an official SMCA-DETR checkpoint to mmdet')
    parser.add_argument('src', help='official checkpoint (.pth)')
    parser.add_argument('dst', help='output checkpoint for SMCADETR')
    parser.add_argument(
        '--keep-all-classes',
        action='store_true',
        help='copy the classifier unchanged instead of keeping the rows of '
        'the 80 COCO category ids')
    parser.add_argument(
        '--config',
        default=DEFAULT_CONFIG,
        help='config the converted checkpoint is for; the official run\'s '
        '`args` (when saved) are checked against it (default: the R50 '
        '50-epoch config)')
    args = parser.parse_args(argv)
    official, run_args = load_official(args.src)
    if run_args is not None:
        if not osp.isfile(args.config):
            raise FileNotFoundError(
                f'smca_official: --config {args.config} does not exist; it '
                'is needed to check the checkpoint\'s args')
        for note in check_args(run_args, Config.fromfile(args.config),
                               args.config):
            print(note)
    state_dict = convert(official, args.keep_all_classes)
    torch.save(
        dict(state_dict=state_dict, meta=dict(converted_from=args.src)),
        args.dst)
    print(f'saved {len(state_dict)} tensors to {args.dst}')


if __name__ == '__main__':
    main()

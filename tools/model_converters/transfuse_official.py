"""Convert an official TransFuse checkpoint (Rayicer/TransFuse) to ours.

The official ``TransFuse_S`` / ``TransFuse_L`` / ``TransFuse_L_384`` state
dicts (keys such as ``resnet.layer1.0.conv1.weight``, ``up_c.W_g.conv.weight``,
``up_c_1_2.attn_block.psi.0.weight``, ``final_x.2.conv.weight``) are renamed
to the ``EncoderDecoder`` layout of ``configs/transfuse`` (``backbone.*``,
``neck.fusions.*``, ``decode_head.*``). The unused ``transformer.cls_token``
is dropped. Every key must be mapped: the tool refuses (and lists them) when
any key is unknown, and with ``--config`` it also loads the result with
``strict=True`` into the config's model before writing anything.

The source may be a bare state dict (the released ISIC 2017 checkpoint) or
one wrapped as community checkpoints often are (``{'state_dict': ...}``,
``{'model': ...}``, ``module.`` prefixes); it is read with
``weights_only=True`` and anything but tensors is refused.

``--align-corners`` records how the checkpoint's final x4/x16 upsampling was
trained: ``false`` (default) for the released checkpoint (the repository's
2021 code), ``true`` for the current code; with ``--config`` the config's
``decode_head.align_corners`` must match (the ISIC TransFuse-S config uses
False).

Example::

    CFG=configs/transfuse/transfuse-s_r34-deit-s_1xb16-30e_isic2017-192x256.py
    python tools/model_converters/transfuse_official.py \
        pretrained/TransFuse-19_best.pth work_dirs/transfuse_s_isic.pth \
        --config $CFG
    mim test mmseg $CFG --checkpoint work_dirs/transfuse_s_isic.pth
"""
import argparse
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch

from mmplugin_transfuse.seg.models.utils import load_checkpoint_state_dict

# ``DoubleConv`` (nn.Sequential) -> ResidualDoubleConv (ConvModules)
_DOUBLE_CONV = [
    (r'double_conv\.0\.', 'conv1.conv.'),
    (r'double_conv\.1\.', 'conv1.bn.'),
    (r'double_conv\.3\.', 'conv2.conv.'),
    (r'double_conv\.4\.', 'conv2.bn.'),
    (r'identity\.0\.', 'identity.conv.'),
    (r'identity\.1\.', 'identity.bn.'),
]
# ``BiFusion_block`` -> BiFusionBlock
_BIFUSION = [
    (r'fc1\.', 'channel_attn.conv1.conv.'),
    (r'fc2\.', 'channel_attn.conv2.conv.'),
    (r'spatial\.', 'spatial_attn.conv.'),
    (r'W_g\.', 'cnn_proj.'),
    (r'W_x\.', 'trans_proj.'),
    (r'W\.', 'product_conv.'),
    (r'residual\.', 'residual.'),
]
# ``Up(attn=True)`` -> TransFuseUp
_UP = [('conv\\.' + a, 'conv.' + b) for a, b in _DOUBLE_CONV] + [
    (r'attn_block\.W_g\.0\.', 'attn_gate.gate_proj.conv.'),
    (r'attn_block\.W_g\.1\.', 'attn_gate.gate_proj.bn.'),
    (r'attn_block\.W_x\.0\.', 'attn_gate.skip_proj.conv.'),
    (r'attn_block\.W_x\.1\.', 'attn_gate.skip_proj.bn.'),
    (r'attn_block\.psi\.0\.', 'attn_gate.psi.conv.'),
    (r'attn_block\.psi\.1\.', 'attn_gate.psi.bn.'),
]

# (official prefix, new prefix, inner rules or None for "keep the rest")
_PREFIXES: List[Tuple[str, str, Optional[list]]] = [
    (r'resnet\.', 'backbone.cnn.', None),
    (r'transformer\.', 'backbone.global_branch.', None),
    (r'up1\.', 'backbone.up1.', [('conv\\.' + a, 'conv.' + b)
                                 for a, b in _DOUBLE_CONV]),
    (r'up2\.', 'backbone.up2.', [('conv\\.' + a, 'conv.' + b)
                                 for a, b in _DOUBLE_CONV]),
    (r'up_c\.', 'neck.fusions.0.', _BIFUSION),
    (r'up_c_1_1\.', 'neck.fusions.1.', _BIFUSION),
    (r'up_c_2_1\.', 'neck.fusions.2.', _BIFUSION),
    (r'up_c_1_2\.', 'decode_head.up_blocks.0.', _UP),
    (r'up_c_2_2\.', 'decode_head.up_blocks.1.', _UP),
    (r'final_x\.', 'decode_head.coarse_head.', [(r'([01])\.(conv|bn)\.',
                                                 r'\1.\2.'),
                                                (r'2\.conv\.', '2.')]),
    (r'final_1\.', 'decode_head.branch_head.', [(r'0\.(conv|bn)\.', r'0.\1.'),
                                                (r'1\.conv\.', '1.')]),
    (r'final_2\.', 'decode_head.fused_conv.', [(r'0\.(conv|bn)\.', r'\1.')]),
]
# final_2.1 is the prediction conv: BaseDecodeHead's ``conv_seg``
_SPECIAL = [(r'final_2\.1\.conv\.', 'decode_head.conv_seg.')]
#: keys of the official model that its forward never uses
DROPPED = ('transformer.cls_token', )


def convert_key(key: str) -> Optional[str]:
    """New name of one official key, or None when it cannot be mapped."""
    for pattern, new in _SPECIAL:
        m = re.match(pattern, key)
        if m:
            return new + key[m.end():]
    for prefix, new_prefix, rules in _PREFIXES:
        m = re.match(prefix + r'(.*)$', key)
        if not m:
            continue
        rest = m.group(1)
        if rules is None:
            return new_prefix + rest
        for pattern, repl in rules:
            mm = re.match(pattern, rest)
            if mm:
                return new_prefix + mm.expand(repl) + rest[mm.end():]
        return None
    return None


def convert_official(
    state_dict: Dict[str, torch.Tensor]
) -> Tuple['OrderedDict[str, torch.Tensor]', List[str]]:
    """Rename an official TransFuse state dict.

    Returns:
        tuple: (converted state dict, dropped keys).

    Raises:
        KeyError: listing every key that has no mapping.
    """
    out: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    dropped, unmapped = [], []
    for key, value in state_dict.items():
        key = key[len('module.'):] if key.startswith('module.') else key
        if key in DROPPED:
            dropped.append(key)
            continue
        new = convert_key(key)
        if new is None:
            unmapped.append(key)
        else:
            out[new] = value
    if unmapped:
        raise KeyError(
            f'transfuse_official: {len(unmapped)} keys of the checkpoint have '
            f'no mapping (not an official TransFuse_S/L/L_384 state dict?): '
            f'{unmapped}')
    return out, dropped


def check_against_config(state_dict: Dict[str, torch.Tensor],
                         config: str,
                         align_corners: Optional[bool] = None) -> None:
    """Build ``config``'s model and load ``state_dict`` with strict=True.

    With ``align_corners`` (the setting the checkpoint was trained with),
    also refuse a config whose ``decode_head.align_corners`` differs.
    """
    from mmengine import Config
    from mmengine.registry import init_default_scope

    import mmplugin_transfuse  # noqa: F401
    from mmseg.registry import MODELS
    cfg = Config.fromfile(config)
    if align_corners is not None:
        used = cfg.model.decode_head.get('align_corners', True)
        if used != align_corners:
            raise ValueError(
                f'transfuse_official: the checkpoint was trained with '
                f'align_corners={align_corners} (--align-corners) but '
                f'{config} sets model.decode_head.align_corners={used}; use '
                'a config with the same setting (e.g. add --cfg-options '
                f'model.decode_head.align_corners={align_corners} when '
                'testing) or pass the right --align-corners')
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    own = model.state_dict()
    bad = [
        f'{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}'
        for k, v in state_dict.items() if k in own and own[k].shape != v.shape
    ]
    if bad:
        raise ValueError(f'transfuse_official: shape mismatch with {config}: '
                         f'{bad}')
    model.load_state_dict(state_dict, strict=True)


def save_atomically(obj: dict, dst: str) -> None:
    """``torch.save`` into a temporary file next to ``dst``, renamed onto
    ``dst`` when complete: a failed or interrupted save leaves no partial
    ``dst``."""
    tmp = osp.join(osp.dirname(osp.abspath(dst)),
                   f'.{osp.basename(dst)}.tmp-{os.getpid()}')
    try:
        torch.save(obj, tmp)
        os.replace(tmp, dst)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'src',
        help='official checkpoint (.pth): a bare state dict (the released '
        'one) or one under `state_dict` / `model`, keys possibly prefixed '
        'with `module.`')
    parser.add_argument('dst', help='output checkpoint')
    parser.add_argument(
        '--config', help='check the result loads strictly into this config')
    parser.add_argument(
        '--align-corners',
        choices=('false', 'true'),
        default='false',
        help='align_corners of the final x4/x16 upsampling in the code that '
        'trained the checkpoint: false (default) for the released ISIC 2017 '
        'TransFuse-S checkpoint and the 2021 code, true for checkpoints of '
        'the current reference code. Stored in the output meta; with '
        '--config the config must match it')
    args = parser.parse_args(argv)
    align_corners = args.align_corners == 'true'
    try:
        state_dict = load_checkpoint_state_dict(args.src, 'src')
    except Exception as e:  # a damaged zip/pickle can raise nearly anything
        if isinstance(e, (FileNotFoundError, ValueError, RuntimeError)) \
                and args.src in str(e):
            raise  # the loader's own errors name the file
        raise ValueError(
            f'transfuse_official: src={args.src!r}: not a readable checkpoint '
            f'({type(e).__name__}: {e})') from e
    # plain copies: a damaged pickle can rebuild tensors with odd hooks or
    # views that torch.save then refuses
    state_dict = {k: v.detach().clone() for k, v in state_dict.items()}
    state_dict, dropped = convert_official(state_dict)
    if args.config:
        check_against_config(state_dict, args.config, align_corners)
    save_atomically(
        {
            'state_dict': state_dict,
            'meta': dict(converted_from=args.src, align_corners=align_corners)
        }, args.dst)
    print(f'converted {len(state_dict)} tensors to {args.dst}; dropped '
          f'(unused by the official forward): {dropped}; trained with '
          f'align_corners={align_corners}: evaluate with '
          f'model.decode_head.align_corners={align_corners}')


if __name__ == '__main__':
    main()

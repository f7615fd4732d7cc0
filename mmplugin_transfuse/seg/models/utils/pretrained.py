"""Local-file pretrained weights for the TransFuse branches.

Public ImageNet checkpoints use other key layouts than the branches here:

* timm / DeiT ``VisionTransformer``: a class token (and a distillation token
  for distilled DeiT), a ``pos_embed`` of ``1 + 14*14`` tokens, 12 blocks and a
  classifier ``head``. The branch has no class token, a ``pos_embed`` stored at
  its configured token grid, ``depth`` blocks and no head.
* torchvision / timm ``ResNet``: ``layer4`` and ``fc``, which the branch drops.
* torchvision ``vgg16``: ``features.N`` beyond the 1/16 pooling and the
  ``classifier``, which the VGG branch drops.

The functions below convert such state dicts and report every key they drop,
so that nothing is silently lost. Nothing is ever downloaded: paths must be
local files.
"""
import math
from abc import ABC, abstractmethod
import os.path as osp
import pickle
from typing import Callable, Dict, List, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log
from torch import Tensor

from mmplugin_transfuse.utils import first_n_and_more

StateDict = Dict[str, Tensor]


def load_local_state_dict(path: str, field: str = 'checkpoint') -> StateDict:
    """Load a state dict from a local file, unwrapping common containers.

    Accepts a bare state dict (e.g. the released TransFuse ISIC checkpoint)
    or one nested under ``state_dict`` (mmengine), ``model`` (DeiT / timm
    training scripts) or ``module``; strips a leading ``module.``
    (DataParallel / DDP). The file is read with ``weights_only=True``: a
    pickle holding anything other than tensors and plain containers is
    refused, never executed.

    Args:
        path (str): Local file path.
        field (str): Config field / option the path came from, for error
            messages.

    Raises:
        FileNotFoundError: ``path`` is a URL or not an existing file.
        ValueError: the file is not a weights-only checkpoint, or the state
            dict holds something other than tensors.
    """
    if not isinstance(path, str) or '://' in path:
        raise FileNotFoundError(
            f'{field}={path!r}: pretrained weights must be a local file '
            '(downloads are not supported); download it elsewhere and give '
            'its path.')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{field}={path!r}: no such file. Give the path of a local '
            'checkpoint (.pth).')
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as err:
        first_line = str(err).strip().splitlines()[0] if str(err) else ''
        raise ValueError(
            f'{field}={path!r}: not a weights-only checkpoint (it holds '
            'objects other than tensors and plain containers, which are not '
            f'unpickled for safety): {first_line}') from None
    for container in ('state_dict', 'model', 'module'):
        if isinstance(ckpt, dict) and isinstance(ckpt.get(container), dict):
            ckpt = ckpt[container]
            break
    if not isinstance(ckpt, dict):
        raise ValueError(f'{field}={path!r}: expected a state dict (a dict '
                         'of tensors, possibly under `state_dict` or '
                         f'`model`), got {type(ckpt).__name__}')
    not_tensors = [
        f'{k} ({type(v).__name__})' for k, v in ckpt.items()
        if not isinstance(v, torch.Tensor)
    ]
    if not_tensors:
        raise ValueError(
            f'{field}={path!r}: expected a state dict of tensors (bare, or '
            f'under `state_dict` / `model`); {len(not_tensors)} entries are '
            f'not tensors: {not_tensors[:8]}')
    return {
        (k[len('module.'):] if k.startswith('module.') else k): v
        for k, v in ckpt.items()
    }


def resize_pos_embed(pos_embed: Tensor,
                     src_grid: Sequence[int],
                     dst_grid: Sequence[int],
                     mode: str = 'bilinear',
                     align_corners: bool = True) -> Tensor:
    """Resize a grid position embedding without prefix tokens.

    Same operation as the reference ``deit_*`` constructors (transpose to
    ``(1, D, h, w)``, ``F.interpolate(mode='bilinear', align_corners=True)``,
    flatten back).

    Args:
        pos_embed (Tensor): ``(1, h_src * w_src, D)``.
        src_grid / dst_grid: ``(h, w)`` token grids.

    Returns:
        Tensor: ``(1, h_dst * w_dst, D)``.
    """
    src_h, src_w = src_grid
    dst_h, dst_w = dst_grid
    if (src_h, src_w) == (dst_h, dst_w):
        return pos_embed
    b, n, d = pos_embed.shape
    if n != src_h * src_w:
        raise ValueError(f'pos_embed has {n} tokens, expected the source '
                         f'grid {src_h}x{src_w} = {src_h * src_w}')
    grid = pos_embed.transpose(1, 2).reshape(b, d, src_h, src_w)
    grid = F.interpolate(
        grid, size=(dst_h, dst_w), mode=mode, align_corners=align_corners)
    return grid.flatten(2).transpose(1, 2)


def adapt_first_conv(weight: Tensor, in_channels: int) -> Tensor:
    """Map an RGB first-layer kernel ``(O, 3, k, k)`` to ``in_channels``.

    The kernel is averaged over its RGB inputs and tiled over the new
    inputs, scaled by ``3 / in_channels`` so that an image whose channels all
    hold the same value gives the same response as the RGB kernel on a grey
    image of that value (for 1 channel this is the RGB sum, as timm's
    ``adapt_input_conv``).
    """
    if weight.shape[1] == in_channels:
        return weight
    mean = weight.float().mean(dim=1, keepdim=True)
    scale = weight.shape[1] / in_channels
    return (mean.repeat(1, in_channels, 1, 1) * scale).to(weight.dtype)


def _split_prefix_tokens(pos_embed: Tensor) -> Tuple[Tensor, Tuple[int, int]]:
    """Drop class/distillation tokens of a square ViT position embedding."""
    n = pos_embed.shape[1]
    side = int(math.isqrt(n))
    for num_prefix in (0, 1, 2):
        s = int(math.isqrt(n - num_prefix))
        if s * s == n - num_prefix:
            return pos_embed[:, num_prefix:], (s, s)
    raise ValueError(
        f'cannot infer the token grid of a pos_embed with {n} tokens '
        f'(not a square plus 0-2 prefix tokens; closest side {side})')


def _drop_and_adapt(state_dict: StateDict, drop: Callable[[str], bool],
                    first_conv: str,
                    in_channels: int) -> Tuple[StateDict, List[str]]:
    """What the branch converters share: the keys ``drop`` selects are left
    out (and returned, in order), the others kept with ``first_conv`` (the
    input conv's weight) adapted to ``in_channels`` by
    :func:`adapt_first_conv`."""
    out: StateDict = {}
    dropped: List[str] = []
    for key, value in state_dict.items():
        if drop(key):
            dropped.append(key)
            continue
        if key == first_conv:
            value = adapt_first_conv(value, in_channels)
        out[key] = value
    return out, dropped


def convert_deit_checkpoint(state_dict: StateDict,
                            depth: int,
                            pos_grid: Sequence[int],
                            in_channels: int = 3
                            ) -> Tuple[StateDict, List[str]]:
    """timm / DeiT ViT state dict -> :class:`TransFuseViT` layout.

    Drops the class/distillation tokens, the heads and blocks ``>= depth``;
    resizes ``pos_embed`` from its (square) grid to ``pos_grid`` as the
    reference; adapts ``patch_embed.proj.weight`` to ``in_channels``.

    Args:
        state_dict (dict): timm ``VisionTransformer`` keys.
        depth (int): Number of blocks kept.
        pos_grid (tuple): ``(h, w)`` grid the branch stores.
        in_channels (int): Input channels of the patch embedding.

    Returns:
        tuple: (converted state dict, dropped keys).
    """

    def drop(key: str) -> bool:
        return (key in ('cls_token', 'dist_token')
                or key.startswith(
                    ('head.', 'head_dist.', 'fc_norm.', 'pre_logits.'))
                or (key.startswith('blocks.')
                    and int(key.split('.')[1]) >= depth))

    out, dropped = _drop_and_adapt(state_dict, drop,
                                   'patch_embed.proj.weight', in_channels)
    if 'pos_embed' in out:
        value, grid = _split_prefix_tokens(out['pos_embed'])
        out['pos_embed'] = resize_pos_embed(value, grid, pos_grid)
    return out, dropped


def convert_resnet_checkpoint(
        state_dict: StateDict,
        in_channels: int = 3) -> Tuple[StateDict, List[str]]:
    """torchvision / timm ResNet state dict -> :class:`TransFuseResNet`.

    Both libraries name ResNet parameters identically (``conv1``, ``bn1``,
    ``layerN.i.*``); ``layer4`` and ``fc`` are dropped, ``conv1.weight`` is
    adapted to ``in_channels``.
    """
    return _drop_and_adapt(state_dict,
                           lambda key: key.startswith(('layer4.', 'fc.')),
                           'conv1.weight', in_channels)


def convert_vgg_checkpoint(
        state_dict: StateDict,
        num_layers: int,
        in_channels: int = 3) -> Tuple[StateDict, List[str]]:
    """torchvision VGG state dict -> :class:`TransFuseVGG` (``features`` only).

    Keeps ``features.i`` for ``i < num_layers`` and adapts ``features.0``.
    """

    def drop(key: str) -> bool:
        parts = key.split('.')
        return parts[0] != 'features' or int(parts[1]) >= num_layers

    return _drop_and_adapt(state_dict, drop, 'features.0.weight', in_channels)


def load_pretrained_branch(module: nn.Module, state_dict: StateDict,
                           dropped: Sequence[str], name: str,
                           path: str) -> None:
    """Load a converted state dict into a branch, refusing any mismatch.

    A wrong shape or a missing parameter raises (a branch checkpoint must
    cover the whole branch; anything missing means a file of another
    architecture, never a partial load); keys the converter dropped and
    unexpected keys are logged.
    """
    own = module.state_dict()
    mismatched = [
        k for k, v in state_dict.items()
        if k in own and own[k].shape != v.shape
    ]
    if mismatched:
        details = ', '.join(f'{k}: checkpoint {tuple(state_dict[k].shape)} '
                            f'vs model {tuple(own[k].shape)}'
                            for k in mismatched)
        raise ValueError(f'{name} init_cfg.checkpoint={path!r}: shape '
                         f'mismatch for {details}')
    result = module.load_state_dict(state_dict, strict=False)
    if result.missing_keys:
        # a branch checkpoint must cover the whole branch: anything missing
        # means a file of another architecture, never a partial load
        raise ValueError(
            f'{name} init_cfg.checkpoint={path!r} does not match the branch: '
            f'{len(result.missing_keys)} parameters/buffers missing: '
            f'{first_n_and_more(result.missing_keys, 8)}; unexpected keys: '
            f'{first_n_and_more(result.unexpected_keys, 8)}')
    print_log(
        f'{name}: loaded {path}; dropped (not used by the branch): '
        f'{len(dropped)} keys {first_n_and_more(dropped, 8)}; '
        f'unexpected: {result.unexpected_keys}',
        logger='current')


class PretrainedBranchMixin(ABC):
    """``init_weights`` of the three TransFuse branches (ResNet, ViT, VGG).

    With ``init_cfg=dict(type='Pretrained', checkpoint=LOCAL_FILE)`` the
    file is read by :func:`load_local_state_dict`, converted by the branch's
    :meth:`convert_pretrained` (public ImageNet layouts -> the branch's) and
    loaded by :func:`load_pretrained_branch`; otherwise the branch keeps
    mmengine's init followed by :meth:`init_from_scratch`. Mix it in before
    ``BaseModule``.
    """

    @abstractmethod
    def convert_pretrained(
            self, state_dict: StateDict) -> Tuple[StateDict, List[str]]:
        """(converted state dict, dropped keys) of a public checkpoint;
        each branch implements its own layout (ABC: a branch without it
        cannot be instantiated)."""

    def init_from_scratch(self) -> None:
        """Random init on top of mmengine's (nothing by default)."""

    def init_weights(self) -> None:
        name = type(self).__name__
        if isinstance(self.init_cfg, dict) and \
                self.init_cfg.get('type') == 'Pretrained':
            path = self.init_cfg.get('checkpoint')
            state_dict = load_local_state_dict(
                path, f'{name}.init_cfg.checkpoint')
            state_dict, dropped = self.convert_pretrained(state_dict)
            load_pretrained_branch(self, state_dict, dropped, name, path)
            self._is_init = True
            return
        super().init_weights()
        self.init_from_scratch()

"""Transformer branch of TransFuse: a truncated DeiT without class token."""
import inspect
import math
from functools import partial
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_
from timm.layers import PatchEmbed, resample_abs_pos_embed
from timm.models.vision_transformer import Block
from torch import Tensor

from mmseg.registry import MODELS
from mmseg.utils import OptConfigType

from mmplugin_transfuse.utils import maybe_checkpoint
from ..utils import PretrainedBranchMixin, adapt_input, split_keys


#: timm >= 1.0.31 takes ``align_corners`` (earlier versions interpolate
#: with torch's default, ``False``)
_TIMM_ALIGN_CORNERS = 'align_corners' in inspect.signature(
    resample_abs_pos_embed).parameters


def resize_grid_pos_embed(pos_embed: Tensor,
                          new_size: Sequence[int],
                          old_size: Sequence[int],
                          num_prefix_tokens: int = 0) -> Tensor:
    """Grid position embedding resized to ``new_size``, prefix tokens cut.

    The reference's resize (its ``deit_*`` constructors): the ``(1, D, h,
    w)`` grid through ``F.interpolate(mode='bilinear',
    align_corners=True)``. That is timm's ``resample_abs_pos_embed`` with
    bilinear, ``align_corners=True`` and no antialiasing (timm's default
    antialiasing would smooth a shrinking resize such as 14x14 -> 12x16),
    used when the installed timm takes ``align_corners``; otherwise the same
    ``F.interpolate`` call directly.

    Args:
        pos_embed (Tensor): ``(1, num_prefix_tokens + h_old * w_old, D)``.

    Returns:
        Tensor: ``(1, h_new * w_new, D)``.
    """
    grid = pos_embed[:, num_prefix_tokens:]
    if _TIMM_ALIGN_CORNERS:
        return resample_abs_pos_embed(
            grid,
            new_size=list(new_size),
            old_size=list(old_size),
            num_prefix_tokens=0,
            interpolation='bilinear',
            antialias=False,
            align_corners=True)
    if tuple(new_size) == tuple(old_size):
        return grid
    dims = grid.shape[-1]
    grid = grid.reshape(1, *old_size, dims).permute(0, 3, 1, 2)
    grid = F.interpolate(
        grid, size=tuple(new_size), mode='bilinear', align_corners=True)
    return grid.permute(0, 2, 3, 1).reshape(1, -1, dims)


@MODELS.register_module()
class TransFuseViT(PretrainedBranchMixin, BaseModule):
    """DeiT encoder on ``patch_size`` patches, no class token (paper Sec. 2.1).

    Made of timm's ``PatchEmbed`` and ``Block`` (LayerNorm eps 1e-6, qkv bias,
    as the reference's ``deit_*`` constructors), a learnable position
    embedding and the final LayerNorm. The reference keeps timm's class token
    in its state dict but never uses it; it is not built here (an unused
    parameter would also break DDP).

    The position embedding is stored at ``pos_grid`` (12x16 for the
    reference's 192x256 inputs, so official checkpoints load as they are) and
    resized bilinearly (``align_corners=True``, the reference's resize from
    DeiT's 14x14) to the actual token grid at run time, so any input whose
    sides are multiples of ``patch_size`` works.

    Args:
        in_channels (int): Input channels of the patch embedding.
        patch_size (int): Patch size (16; 1 for the hybrid sequential
            ablation, where the input is already a 1/16 CNN map).
        embed_dims (int): Token width D (384 DeiT-S, 768 DeiT-B).
        depth (int): Number of blocks kept (8 for TransFuse-S).
        num_heads (int): Attention heads.
        mlp_ratio (float): MLP hidden ratio.
        pos_grid (tuple): ``(h, w)`` token grid of the stored pos-embed.
        drop_rate (float): Dropout after adding the position embedding.
        attn_drop_rate (float): Attention dropout.
        drop_path_rate (float): Stochastic depth (0 in the reference).
        with_cp (bool): Gradient checkpointing of each block (saves memory,
            costs one extra forward per block in training).
        init_cfg (dict, optional): ``dict(type='Pretrained',
            checkpoint=URL_OR_PATH)`` of a DeiT release file
            (``{'model': state_dict}``) or a timm ViT state dict; see
            :meth:`convert_pretrained`.

    Shape:
        ``(B, C_in, H, W) -> (B, D, H/p, W/p)``.
    """

    def __init__(self,
                 in_channels: int = 3,
                 patch_size: int = 16,
                 embed_dims: int = 384,
                 depth: int = 8,
                 num_heads: int = 6,
                 mlp_ratio: float = 4.,
                 pos_grid: Sequence[int] = (12, 16),
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 with_cp: bool = False,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg)
        self.in_channels = in_channels
        self.patch_size = patch_size
        self.pos_grid = tuple(pos_grid)
        self.depth = depth
        self.with_cp = with_cp
        self.out_channels = embed_dims
        # strict_img_size=False: any multiple of the patch size is accepted
        self.patch_embed = PatchEmbed(
            img_size=(self.pos_grid[0] * patch_size,
                      self.pos_grid[1] * patch_size),
            patch_size=patch_size,
            in_chans=in_channels,
            embed_dim=embed_dims,
            strict_img_size=False)
        self.pos_embed = nn.Parameter(
            torch.zeros(1, self.pos_grid[0] * self.pos_grid[1], embed_dims))
        self.pos_drop = nn.Dropout(drop_rate)
        norm_layer = partial(nn.LayerNorm, eps=1e-6)
        dpr = torch.linspace(0, drop_path_rate, depth).tolist()
        self.blocks = nn.ModuleList([
            Block(
                dim=embed_dims,
                num_heads=num_heads,
                mlp_ratio=mlp_ratio,
                qkv_bias=True,
                attn_drop=attn_drop_rate,
                drop_path=dpr[i],
                norm_layer=norm_layer) for i in range(depth)
        ])
        self.norm = norm_layer(embed_dims)

    def convert_pretrained(self, state_dict: dict) -> tuple:
        """timm / DeiT ViT keys -> this branch.

        Left out: the class (and distillation) token, the heads, blocks
        ``>= depth``. ``pos_embed`` (``1 + 14*14`` tokens for DeiT/224,
        ``1 + 24*24`` for DeiT/384) loses its prefix tokens and is resized to
        ``pos_grid`` by :func:`resize_grid_pos_embed`, as the reference. The
        patch embedding is adapted to ``in_channels``; one of another patch
        size (the hybrid sequential ablation's 1x1 "patches" on CNN maps)
        is left out and keeps its random init.
        """
        num_prefix = sum(k in state_dict for k in ('cls_token', 'dist_token'))

        def drop(key: str) -> bool:
            return (key in ('cls_token', 'dist_token')
                    or key.startswith(
                        ('head.', 'head_dist.', 'fc_norm.', 'pre_logits.'))
                    or (key.startswith('blocks.')
                        and int(key.split('.')[1]) >= self.depth))

        proj = state_dict.get('patch_embed.proj.weight')
        if proj is not None and \
                tuple(proj.shape[2:]) != (self.patch_size, ) * 2:
            state_dict = {
                k: v
                for k, v in state_dict.items()
                if not k.startswith('patch_embed.proj.')
            }
            dropped_proj = ['patch_embed.proj.weight', 'patch_embed.proj.bias']
        else:
            dropped_proj = []
        state_dict, dropped = split_keys(state_dict, drop)
        adapt_input(state_dict, 'patch_embed.proj.weight', self.in_channels)
        pos_embed = state_dict.get('pos_embed')
        if pos_embed is not None:
            num_grid = pos_embed.shape[1] - num_prefix
            h, w = self.pos_grid
            side = math.isqrt(num_grid)
            if num_prefix == 0 and num_grid == h * w:
                old_size = self.pos_grid  # this branch's own layout
            elif side * side == num_grid:
                old_size = (side, side)
            else:
                raise ValueError(
                    f'{type(self).__name__}: the checkpoint pos_embed has '
                    f'{pos_embed.shape[1]} tokens ({num_prefix} prefix); '
                    'expected a square grid (DeiT/ViT) or the branch\'s '
                    f'pos_grid {h}x{w}')
            state_dict['pos_embed'] = resize_grid_pos_embed(
                pos_embed, self.pos_grid, old_size, num_prefix)
        return state_dict, dropped_proj + dropped

    def init_from_scratch(self) -> None:
        # timm ViT initialisation (trunc-normal linears, zero biases)
        trunc_normal_(self.pos_embed, std=.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                trunc_normal_(m.weight, std=.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[2] // self.patch_size, x.shape[3] // self.patch_size
        x = self.patch_embed(x)  # (B, h*w, D)
        pos_embed = resize_grid_pos_embed(self.pos_embed, (h, w),
                                          self.pos_grid)
        x = self.pos_drop(x + pos_embed)
        for block in self.blocks:
            x = maybe_checkpoint(self, block, x)
        x = self.norm(x)
        return x.transpose(1, 2).reshape(x.shape[0], -1, h, w)

"""TransFuse backbone: CNN branch and transformer branch in parallel."""
from typing import List, Sequence, Tuple

import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from mmseg.registry import MODELS
from mmseg.utils import OptConfigType
from ..utils import TransFuseUp


@MODELS.register_module()
class TransFuseBackbone(BaseModule):
    """The two encoder branches of TransFuse (paper Sec. 2.1, Fig. 1).

    * ``cnn`` (CNN branch, e.g. :class:`TransFuseResNet`): maps ``g`` at
      1/4, 1/8, 1/16.
    * ``global_branch`` (:class:`TransFuseViT`, the transformer; or
      :class:`TransFuseVGG` for the Table 5 ablation): one map ``t0`` at
      1/16, then ``up1``/``up2`` (:class:`TransFuseUp` without skip) give
      ``t1`` at 1/8 and ``t2`` at 1/4 (paper: "progressive upsampling").
    * Dropout2d(``drop_rate``) follows the token map, each upsample and each
      CNN stage, as the reference's ``self.drop``.

    The reference names the branches ``resnet`` and ``transformer``;
    ``tools/model_converters/transfuse_official.py`` renames its checkpoints'
    keys to ``cnn.*`` / ``global_branch.*``.

    Each branch reads its own ImageNet weights (``init_cfg`` of type
    ``Pretrained``, see :class:`PretrainedBranchMixin`); errors name the
    branch's config key, ``model.backbone.cnn.init_cfg.checkpoint`` or
    ``model.backbone.global_branch.init_cfg.checkpoint``.

    ``composition`` selects Table 5's rows:

    * ``'parallel'`` (TransFuse): both branches see the image; returns
      ``(g_16, g_8, g_4, t_16, t_8, t_4)`` for :class:`BiFusionNeck`.
    * ``'sequential'`` with one branch (``cnn=None`` or
      ``global_branch=None``): that branch alone; returns its
      ``(x_16, x_8, x_4)`` for a decoder without fusion.
    * ``'sequential'`` with both branches (TransUNet-like hybrid, our reading
      of the paper's "R34+DeiT-S sequential"): the transformer runs on the
      1/16 CNN map (configure it with ``patch_size=1`` and
      ``in_channels`` = the CNN's 1/16 channels); returns
      ``(t_16, g_8, g_4)``: transformer bottleneck, CNN skips.

    Args:
        cnn (dict, optional): Config of the CNN branch.
        global_branch (dict, optional): Config of the global branch (the
            transformer).
        up_channels (tuple[int]): Widths of ``up1``/``up2`` (128, 64 for -S;
            512, 256 for -L). Unused for the hybrid sequential composition.
        composition (str): ``'parallel'`` or ``'sequential'``.
        drop_rate (float): Dropout2d probability (0.2 in the reference).
        size_divisor (int): Input sides must be multiples of this (16: the
            patch size and the CNN's 1/16 map must give the same grid).

    Shape:
        input ``(B, C_in, H, W)`` with ``H, W`` multiples of 16.
    """

    def __init__(self,
                 cnn: OptConfigType = dict(type='TransFuseResNet', depth=34),
                 global_branch: OptConfigType = dict(type='TransFuseViT'),
                 up_channels: Sequence[int] = (128, 64),
                 composition: str = 'parallel',
                 drop_rate: float = 0.2,
                 size_divisor: int = 16,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg)
        if composition not in ('parallel', 'sequential'):
            raise ValueError(f'TransFuseBackbone.composition={composition!r}:'
                             " expected 'parallel' or 'sequential'")
        if cnn is None and global_branch is None:
            raise ValueError('TransFuseBackbone needs at least one of `cnn` '
                             'and `global_branch`')
        if composition == 'parallel' and (cnn is None
                                          or global_branch is None):
            raise ValueError("TransFuseBackbone.composition='parallel' needs "
                             'both `cnn` and `global_branch`; use '
                             "'sequential' for a single branch")
        self.composition = composition
        self.size_divisor = size_divisor
        self.hybrid = composition == 'sequential' and cnn is not None \
            and global_branch is not None
        self.cnn = MODELS.build(cnn) if cnn is not None else None
        self.global_branch = MODELS.build(global_branch) \
            if global_branch is not None else None
        if self.global_branch is not None and not self.hybrid:
            c0 = self.global_branch.out_channels
            self.up1 = TransFuseUp(c0, up_channels[0])
            self.up2 = TransFuseUp(up_channels[0], up_channels[1])
        self.drop = nn.Dropout2d(drop_rate)
        for name in ('cnn', 'global_branch'):
            branch = getattr(self, name)
            if branch is not None:
                branch.init_cfg_key = \
                    f'model.backbone.{name}.init_cfg.checkpoint'

    @property
    def out_channels(self) -> Tuple[int, ...]:
        """Channels of the returned maps, in order."""
        if self.hybrid:
            return (self.global_branch.out_channels,
                    *self.cnn.out_channels[1::-1])
        channels: Tuple[int, ...] = ()
        if self.cnn is not None:
            channels += tuple(self.cnn.out_channels[::-1])
        if self.global_branch is not None:
            channels += (self.global_branch.out_channels,
                         self.up1.conv.conv1.conv.out_channels,
                         self.up2.conv.conv1.conv.out_channels)
        return channels

    def _check_size(self, x: Tensor) -> None:
        h, w = x.shape[-2:]
        if h % self.size_divisor or w % self.size_divisor:
            raise ValueError(
                f'TransFuseBackbone: input height and width must be multiples'
                f' of {self.size_divisor}, got {h}x{w}. Pad them with '
                f'`data_preprocessor.size_divisor={self.size_divisor}` (and '
                f"`test_cfg=dict(size_divisor={self.size_divisor})`) or "
                'resize to such a size.')

    def _cnn(self, x: Tensor) -> List[Tensor]:
        """CNN maps at 1/4, 1/8, 1/16, each followed by Dropout2d."""
        x = self.cnn.forward_stem(x)
        feats = []
        for layer in (self.cnn.layer1, self.cnn.layer2,
                      self.cnn.layer3):
            x = self.drop(layer(x))
            feats.append(x)
        return feats

    def _global(self, x: Tensor) -> List[Tensor]:
        """Global-branch maps at 1/16, 1/8, 1/4."""
        t0 = self.drop(self.global_branch(x))
        t1 = self.drop(self.up1(t0))
        t2 = self.drop(self.up2(t1))
        return [t0, t1, t2]

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        self._check_size(x)
        if self.hybrid:
            g4, g8, g16 = self._cnn(x)
            t16 = self.drop(self.global_branch(g16))
            return (t16, g8, g4)
        outs: Tuple[Tensor, ...] = ()
        if self.cnn is not None:
            outs += tuple(self._cnn(x)[::-1])
        if self.global_branch is not None:
            outs += tuple(self._global(x))
        return outs

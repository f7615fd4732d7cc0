"""TransFuse decoder: attention-gated upsampling and three prediction heads."""
from typing import Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from torch import Tensor

from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType, SampleList
from ..utils import TransFuseUp


@MODELS.register_module()
class TransFuseHead(BaseDecodeHead):
    """Attention-gated decoder and deep supervision of TransFuse (Sec. 2.3).

    Inputs (``in_channels`` lists them, coarse to fine):
    ``(f_16, f_8, f_4[, t_4])`` from :class:`BiFusionNeck`, or the three
    maps of a ``'sequential'`` :class:`TransFuseBackbone` (then there is no
    ``t_4`` and no branch head).

    * Decoder, paper eq. (4): ``d_8 = Up(f_16, AG(f_8))``,
      ``d_4 = Up(d_8, AG(f_4))`` with :class:`TransFuseUp` (the reference's
      ``up_c_1_2`` / ``up_c_2_2``).
    * ``coarse_head`` on ``f_16``: 1x1 conv+BN+ReLU to ``channels``, 3x3
      conv+BN+ReLU, 3x3 conv to ``out_channels`` (reference ``final_x``).
    * ``branch_head`` on ``t_4``: 3x3 conv+BN+ReLU, 3x3 conv (``final_1``).
    * fused head on ``d_4``: ``fused_conv`` (3x3 conv+BN+ReLU) then
      ``conv_seg`` (3x3 conv, ``final_2``); this is the prediction.

    ``forward`` returns low-resolution logits; ``loss_by_feat`` and
    ``predict_by_feat`` resize them to the label / padded input size with
    ``align_corners``, which equals the reference's final
    ``F.interpolate(scale_factor=16 / 4, mode='bilinear',
    align_corners=...)`` for inputs divisible by 16 (same source-to-output
    size ratio, so the same sampling grid).

    Which ``align_corners`` to choose: the current reference code uses
    ``True`` (the default here). Its 2021 version, which trained the
    released ISIC 2017 TransFuse-S checkpoint, called ``F.interpolate``
    without the argument, i.e. ``False``: evaluate that checkpoint (and
    checkpoints trained with that code) with ``align_corners=False``, as
    ``transfuse-s_r34-deit-s_1xb16-30e_isic2017-192x256.py`` does
    (``tools/model_converters/transfuse_official.py --align-corners``
    checks a converted checkpoint against the config).

    Training returns ``(fused, branch, coarse)`` (``(fused, coarse)``
    without ``t_4``) and ``loss_decode`` must list one loss per output, in
    that order; the paper/reference weights are 0.5, 0.3, 0.2 (set as each
    loss's ``loss_weight``). Inference returns only the fused logits.

    Binary segmentation: ``num_classes=2, out_channels=1, threshold=0.5``
    (sigmoid). Multi-class: ``out_channels=num_classes`` (softmax/argmax).

    Args:
        in_channels (list[int]): Channels of the inputs (see above).
        channels (int): Width of the heads' hidden convs (64 for -S, 256 for
            -L, as the reference).
        align_corners (bool): Of the final x4 / x16 bilinear resize of the
            logits (see above). Default True, the current reference code;
            False for the released ISIC checkpoint.
        dropout_ratio (float): Dropout before ``conv_seg``; 0 as the
            reference (its dropout sits in the backbone and the neck).
        norm_cfg (dict): Norm of the decoder and heads. Default: BN.
        init_cfg (dict, optional): ``KaimingFanIn`` (default), the
            reference's init of its decoder and ``final_*`` heads; mmseg's
            default would be Normal(0, 0.01) on ``conv_seg``.
        **kwargs: :class:`BaseDecodeHead` arguments.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (256, 128, 64, 64),
                 channels: int = 64,
                 align_corners: bool = True,
                 dropout_ratio: float = 0.,
                 norm_cfg: ConfigType = dict(type='BN', requires_grad=True),
                 init_cfg: OptConfigType = dict(type='KaimingFanIn'),
                 **kwargs) -> None:
        if len(in_channels) not in (3, 4):
            raise ValueError(
                'TransFuseHead.in_channels: expected (f_16, f_8, f_4) or '
                f'(f_16, f_8, f_4, t_4) channels, got {in_channels}')
        super().__init__(
            in_channels=list(in_channels),
            channels=channels,
            in_index=list(range(len(in_channels))),
            input_transform='multiple_select',
            align_corners=align_corners,
            dropout_ratio=dropout_ratio,
            norm_cfg=norm_cfg,
            init_cfg=init_cfg,
            **kwargs)
        num_outputs = len(in_channels) - 1
        names = ['fused', 'branch', 'coarse'
                 ] if num_outputs == 3 else ['fused', 'coarse']
        losses = self._losses()
        if len(losses) != num_outputs:
            raise ValueError(
                f'TransFuseHead.loss_decode: expected {num_outputs} losses '
                f'(one per output: {", ".join(names)}), got {len(losses)}')
        c16, c8, c4 = in_channels[:3]
        self.up_blocks = nn.ModuleList([
            TransFuseUp(
                c16,
                c8,
                skip_channels=c8,
                with_attn=True,
                norm_cfg=self.norm_cfg),
            TransFuseUp(
                c8,
                c4,
                skip_channels=c4,
                with_attn=True,
                norm_cfg=self.norm_cfg)
        ])

        def conv(cin: int, cout: int, k: int) -> ConvModule:
            return ConvModule(
                cin,
                cout,
                k,
                padding=(k - 1) // 2,
                bias=True,
                norm_cfg=self.norm_cfg,
                act_cfg=self.act_cfg)

        def cls(cin: int) -> nn.Conv2d:
            return nn.Conv2d(cin, self.out_channels, 3, padding=1)

        self.coarse_head = nn.Sequential(
            conv(c16, channels, 1), conv(channels, channels, 3), cls(channels))
        self.branch_head = nn.Sequential(
            conv(in_channels[3], channels, 3),
            cls(channels)) if num_outputs == 3 else None
        self.fused_conv = conv(c4, channels, 3)
        # The reference's last conv of every head is 3x3 (BaseDecodeHead
        # builds a 1x1 ``conv_seg``): replace it, keeping the name and init.
        self.conv_seg = cls(channels)

    def forward(self,
                inputs: Sequence[Tensor]) -> Union[Tensor, Tuple[Tensor, ...]]:
        feats = self._transform_inputs(inputs)
        f16, f8, f4 = feats[:3]
        d8 = self.up_blocks[0](f16, f8)
        d4 = self.up_blocks[1](d8, f4)
        fused = self.cls_seg(self.fused_conv(d4))
        if not self.training:
            return fused
        outs = [fused]
        if self.branch_head is not None:
            outs.append(self.branch_head(feats[3]))
        outs.append(self.coarse_head(f16))
        return tuple(outs)

    def _losses(self) -> Sequence[nn.Module]:
        """``loss_decode`` as a sequence (mmseg keeps a single loss bare)."""
        if isinstance(self.loss_decode, nn.ModuleList):
            return self.loss_decode
        return [self.loss_decode]

    def _label_of(self, logits: Tensor, seg_label: Tensor) -> Tensor:
        """Predicted class ids ``(B, H, W)`` for ``acc_seg``."""
        if self.out_channels == 1:
            return (logits.sigmoid() > self.threshold).squeeze(1).long()
        return logits.argmax(dim=1)

    def loss_by_feat(self, seg_logits: Sequence[Tensor],
                     batch_data_samples: SampleList) -> dict:
        """Deep-supervised loss: ``sum_k loss_decode[k](resize(logits_k))``.

        Each head's logits are resized to the label size (the reference
        upsamples to the input before its structure loss). Keys are the
        losses' ``loss_name`` values, so they must differ and start with
        ``loss_``.
        """
        seg_label = self._stack_batch_gt(batch_data_samples)
        size = seg_label.shape[2:]
        seg_label = seg_label.squeeze(1)
        losses = self._losses()
        loss = dict()
        resized = [
            resize(
                logits,
                size=size,
                mode='bilinear',
                align_corners=self.align_corners) for logits in seg_logits
        ]
        for logits, loss_decode in zip(resized, losses):
            value = loss_decode(
                logits, seg_label, ignore_index=self.ignore_index)
            name = loss_decode.loss_name
            loss[name] = loss[name] + value if name in loss else value
        # the fused (first) head's prediction, at the label size
        fused = resized[0]
        if any(getattr(loss_decode, 'soft_target', False)
               for loss_decode in losses):
            # soft 0..255 targets (SoftMask): accuracy against mask >= 0.5
            seg_label = (seg_label >= 128).long()
            valid = torch.ones_like(seg_label, dtype=torch.bool)
        else:
            valid = seg_label != self.ignore_index
        correct = (self._label_of(fused, seg_label) == seg_label) & valid
        loss['acc_seg'] = correct.sum().float() * 100. / valid.sum().clamp(
            min=1)
        return loss

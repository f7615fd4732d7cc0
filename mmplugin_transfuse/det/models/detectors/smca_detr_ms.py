"""Multi-scale SMCA-DETR (the paper's full model) on mmdet's DETR skeleton."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmdet.models.backbones import ResNet
from mmdet.models.detectors import DeformableDETR
from mmdet.models.layers import SinePositionalEncoding
from mmdet.models.necks import ChannelMapper
from mmdet.registry import MODELS
from mmdet.structures import OptSampleList
from torch import Tensor, nn

from ..layers import (SMCADWConvEncoder, SMCAMultiScaleDecoder,
                      SMCAMultiScaleEncoder)
from .smca_detr import SMCADETR, check_stride, image_wh, resnet_stride


@MODELS.register_module()
class SMCADETRMultiScale(SMCADETR):
    """SMCA-DETR with multi-scale features (paper Sec. 3.3, Tables 1, 3, 4).

    Data flow: ResNet C4, C5 -> ``ChannelMapper`` (1x1 convs to 256 for E16
    and E32, a 3x3 stride-2 conv on the raw C5 for E64) -> per level, sine
    positional encoding of its padding mask plus a learnable level embedding
    -> :class:`SMCAMultiScaleEncoder` (intra-/multi-scale self-attention on
    the concatenated tokens) -> :class:`SMCAMultiScaleDecoder` (per-level
    priors, scale-selection attention) -> :class:`SMCADETRHead`.

    The level embedding is not in the paper; a learnable per-level vector
    added to the sine encoding (as Deformable DETR does) lets attention over
    the concatenated levels tell the levels apart, since the normalised sine
    encoding of a cell is the same at every stride.

    The centre in level ``l``'s cells is ``sigmoid(.) * (w_img, h_img) /
    stride_l`` with each image's own unpadded ``img_shape``, as the
    single-scale model does per image (the authors' multi-scale archive reads
    the size from the targets at inference; this model needs no targets).

    Args:
        feat_strides (Sequence[int], optional): Pixel stride of each level
            the transformer sees. None (default) reads them from a ResNet
            backbone's ``out_indices`` and a ``ChannelMapper`` neck (each
            extra level doubles the last stride): 16, 32, 64 for C4, C5 and
            one extra level. Other backbones/necks must set it.
        *args, **kwargs: :class:`SMCADETR` / :class:`DETR` arguments.
            ``encoder`` configures :class:`SMCAMultiScaleEncoder` (the
            paper's, ``encoder.type='attention'``, default) or
            :class:`SMCADWConvEncoder` (``encoder.type='dwconv'``, the
            authors' later design); ``decoder`` configures
            :class:`SMCAMultiScaleDecoder`.
    """

    ENCODERS = dict(attention=SMCAMultiScaleEncoder, dwconv=SMCADWConvEncoder)
    # used by Deformable DETR's `pre_transformer` (`valid_ratios`)
    get_valid_ratio = staticmethod(DeformableDETR.get_valid_ratio)

    def __init__(self,
                 *args,
                 feat_strides: Optional[Sequence[int]] = None,
                 **kwargs) -> None:
        self._feat_strides_cfg = feat_strides
        super().__init__(*args, **kwargs)

    def _init_layers(self) -> None:
        """Positional encoding, level embedding, encoder, decoder, queries."""
        self.positional_encoding = SinePositionalEncoding(
            **self.positional_encoding)
        encoder_cfg = dict(self.encoder)
        encoder_type = encoder_cfg.pop('type', 'attention')
        if encoder_type not in self.ENCODERS:
            raise ValueError(
                'SMCADETRMultiScale: `encoder.type` must be one of '
                f'{sorted(self.ENCODERS)}, got {encoder_type!r}')
        self.encoder = self.ENCODERS[encoder_type](**encoder_cfg)
        self.decoder = SMCAMultiScaleDecoder(**self.decoder)
        self.embed_dims = self.encoder.embed_dims
        self.num_levels = self.encoder.num_levels
        if self.decoder.num_levels != self.num_levels:
            raise ValueError(
                'SMCADETRMultiScale: `encoder.num_levels` '
                f'({self.num_levels}) and `decoder.layer_cfg.num_levels` '
                f'({self.decoder.num_levels}) differ')
        self.query_embedding = nn.Embedding(self.num_queries, self.embed_dims)
        self.level_embed = nn.Parameter(
            torch.zeros(self.num_levels, self.embed_dims))
        self._check_num_feats()
        self.feat_strides = self._resolve_feat_strides(self._feat_strides_cfg)
        # the single-scale attribute, kept meaningful: the finest stride
        self.feat_stride = self.feat_strides[0]

    def _resolve_feat_strides(
            self, feat_strides: Optional[Sequence[int]]) -> List[int]:
        """Configured strides, or a ResNet + ChannelMapper's."""
        if feat_strides is not None:
            if len(feat_strides) != self.num_levels or not all(
                    isinstance(s, int) and s > 0 for s in feat_strides):
                raise ValueError(
                    'SMCADETRMultiScale: `model.feat_strides` must be '
                    f'{self.num_levels} positive ints (one per level), got '
                    f'{feat_strides!r}')
            return list(feat_strides)
        if isinstance(self.backbone, ResNet) and isinstance(
                self.neck, ChannelMapper):
            strides = [
                resnet_stride(self.backbone, i)
                for i in self.backbone.out_indices
            ]
            num_extra = 0 if self.neck.extra_convs is None else len(
                self.neck.extra_convs)
            for _ in range(num_extra):
                strides.append(strides[-1] * 2)
            if len(strides) != self.num_levels:
                raise ValueError(
                    f'SMCADETRMultiScale: the neck gives {len(strides)} '
                    f'levels, the encoder is built for {self.num_levels} '
                    '(`encoder.num_levels`, `decoder.layer_cfg.num_levels`)')
            return strides
        raise ValueError(
            'SMCADETRMultiScale: cannot read the level strides from backbone '
            f'{type(self.backbone).__name__} and neck '
            f'{type(self.neck).__name__}; set `model.feat_strides`')

    def init_weights(self) -> None:
        """SMCA/DETR init (Xavier on transformer matrices, scale predictors
        weight 0 / bias 1), then the level embedding ~ N(0, 1) as in
        Deformable DETR."""
        super().init_weights()
        nn.init.normal_(self.level_embed)

    def pre_transformer(
            self,
            img_feats: Tuple[Tensor],
            batch_data_samples: OptSampleList = None) -> Tuple[Dict, Dict]:
        """Deformable DETR's multi-level inputs plus the prior's geometry.

        Args:
            img_feats (tuple[Tensor]): Neck outputs ``(bs, dim, h_l, w_l)``,
                finest first.
            batch_data_samples (list[DetDataSample]): With ``img_shape`` and
                ``batch_input_shape``.

        Returns:
            tuple[dict, dict]: Encoder inputs ``feat``, ``feat_mask`` (bool,
            True = padding; None when no image of the batch is padded),
            ``feat_pos`` (each ``(bs, N, ...)``, ``N = sum_l h_l w_l``),
            ``level_start_index`` and ``spatial_shapes`` (Python ints);
            decoder inputs
            ``memory_mask``, ``memory_pos``, ``valid_wh`` (``(bs, L, 2)``,
            unpadded ``(w, h)`` in each level's cells), ``spatial_shapes``
            and ``level_start_index``.
        """
        if len(img_feats) != self.num_levels:
            raise ValueError(
                f'SMCADETRMultiScale: expected {self.num_levels} feature '
                f'levels from the neck, got {len(img_feats)}')
        pad_hw = batch_data_samples[0].batch_input_shape
        shapes = [tuple(feat.shape[-2:]) for feat in img_feats]
        for lvl, (stride, feat_hw) in enumerate(zip(self.feat_strides,
                                                    shapes)):
            check_stride(f'SMCADETRMultiScale (level {lvl})', stride, pad_hw,
                         feat_hw, 'model.feat_strides')
        # Deformable DETR's: per level the padding mask (None when no image
        # is padded), sine encoding + level embedding, all levels flattened
        encoder_inputs_dict, decoder_inputs_dict = \
            DeformableDETR.pre_transformer(self, img_feats,
                                           batch_data_samples)
        # the level layout as Python ints (the attention slices by level)
        level_start_index = [0]
        for feat_h, feat_w in shapes[:-1]:
            level_start_index.append(level_start_index[-1] + feat_h * feat_w)
        for inputs in (encoder_inputs_dict, decoder_inputs_dict):
            inputs.pop('valid_ratios')
            inputs.update(
                spatial_shapes=shapes, level_start_index=level_start_index)
        feat = encoder_inputs_dict['feat']
        img_wh = image_wh(batch_data_samples, feat)
        strides = feat.new_tensor(self.feat_strides, dtype=torch.float32)
        decoder_inputs_dict.update(
            memory_pos=encoder_inputs_dict['feat_pos'],
            valid_wh=img_wh.unsqueeze(1) / strides.view(1, -1, 1))
        return encoder_inputs_dict, decoder_inputs_dict

    def forward_encoder(self, feat: Tensor, feat_mask: Tensor,
                        feat_pos: Tensor, level_start_index: List[int],
                        spatial_shapes: List[Tuple[int, int]]) -> Dict:
        """Multi-scale encoder; returns ``dict(memory=(bs, N, dim))``."""
        memory = self.encoder(
            query=feat,
            query_pos=feat_pos,
            key_padding_mask=feat_mask,
            level_start_index=level_start_index,
            spatial_shapes=spatial_shapes)
        return dict(memory=memory)

"""SMCA-DETR (single scale) on mmdet's DETR skeleton."""
import math
from typing import Dict, Optional, Tuple

from mmdet.models.backbones import ResNet
from mmdet.models.detectors import DETR
from mmdet.models.layers import SinePositionalEncoding
from mmdet.registry import MODELS
from mmdet.structures import OptSampleList
import torch
from torch import Tensor, nn

from ..layers import SMCATransformerDecoder, SMCATransformerEncoder


def resnet_stride(backbone: ResNet, stage: int) -> int:
    """Pixel stride of a ResNet stage's output (``out_indices`` entry).

    The stem is a stride-2 conv and a stride-2 max-pool; each stage then
    multiplies by its ``strides`` entry (1 in a dilated stage, e.g. DC5).
    """
    return 4 * math.prod(backbone.strides[:stage + 1])


def check_stride(owner: str, stride: int, pad_hw: Tuple[int, int],
                 feat_hw: Tuple[int, int], field: str) -> None:
    """A wrong stride would silently put every centre in the wrong place:
    the map of a ``pad_hw`` input at ``stride`` must be ``ceil(pad /
    stride)`` cells (+-1 for the rounding of convolutions) on each axis."""
    if any(abs(math.ceil(pad / stride) - cells) > 1
           for pad, cells in zip(pad_hw, feat_hw)):
        raise ValueError(
            f'{owner}: stride {stride} (`{field}`) does not match the '
            f'feature map: input {pad_hw[0]}x{pad_hw[1]} gave '
            f'{feat_hw[0]}x{feat_hw[1]}')


def image_wh(batch_data_samples: OptSampleList, like: Tensor) -> Tensor:
    """Each image's unpadded ``(w, h)`` from ``img_shape``, ``(bs, 2)``
    float32 on ``like``'s device.

    Built by arithmetic on a tensor rather than ``new_tensor(list)``, so
    that traced sizes (``torch.export``, ONNX export with dynamic H and W)
    stay symbolic instead of being frozen into the graph.
    """
    one = like.new_ones((), dtype=torch.float32)
    return torch.stack([
        torch.stack([one * sample.img_shape[1], one * sample.img_shape[0]])
        for sample in batch_data_samples
    ])


@MODELS.register_module()
class SMCADETR(DETR):
    """`Fast Convergence of DETR with Spatially Modulated Co-Attention
    <https://arxiv.org/abs/2101.07448>`_ (ICCV 2021), single-scale SMCA.

    Only the decoder co-attention differs from :class:`DETR` (paper Sec. 3.2):
    each object query predicts a normalised centre (sigmoid of an MLP on the
    query, by the first decoder layer, reference code ``point1``); every
    decoder layer turns it plus per-head offsets and scales into ``log G``
    over the key grid and adds it to the co-attention logits
    (:class:`SMCATransformerDecoder`). The pre-sigmoid centre goes to the
    head as ``references`` (:class:`SMCADETRHead` adds it to the box centre).

    Units follow the reference code: the centre in feature-map cells is
    ``sigmoid(.) * (w_img, h_img) / feat_stride`` with ``(h_img, w_img)``
    each image's own unpadded ``img_shape`` (from the data samples, so no
    targets are needed at inference).

    Args:
        feat_stride (int, optional): Stride in pixels of the feature map the
            transformer sees. None (default) reads it from the backbone:
            a ResNet's ``strides`` and last ``out_indices`` (32 for the plain
            C5 map, 16 for DC5); other backbones must set it.
        center_stride (int, optional): Pixels per unit of the predicted
            centre, i.e. the centre in cells is ``sigmoid(.) * (w_img,
            h_img) / center_stride``. None (default) uses ``feat_stride``,
            so centres and keys share one unit (correct for every backbone).
            The reference code hard-codes ``/ 32`` also for its dilated
            (DC5, stride 16) backbone, which puts every centre at half its
            pixel position on the key grid; ``center_stride=32`` on a DC5
            model reproduces that, so an official DC5 checkpoint gives the
            official outputs.
        *args, **kwargs: :class:`DETR` arguments. ``decoder`` configures
            :class:`SMCATransformerDecoder` (``layer_cfg`` takes
            ``scale_mode``, ``head_shared_prior``, ``beta``); ``encoder``
            and ``decoder`` take ``with_cp`` (gradient checkpointing).
    """

    def __init__(self,
                 *args,
                 feat_stride: Optional[int] = None,
                 center_stride: Optional[int] = None,
                 **kwargs):
        # read by `_init_layers`, which the parent constructor calls
        self._feat_stride_cfg = feat_stride
        if center_stride is not None and not (isinstance(center_stride, int)
                                              and center_stride > 0):
            raise ValueError('SMCADETR: `model.center_stride` must be a '
                             f'positive int or None, got {center_stride!r}')
        self._center_stride_cfg = center_stride
        super().__init__(*args, **kwargs)

    def _init_layers(self) -> None:
        """DETR's encoder and query embedding, the SMCA decoder, the stride."""
        self.positional_encoding = SinePositionalEncoding(
            **self.positional_encoding)
        self.encoder = SMCATransformerEncoder(**self.encoder)
        self.decoder = SMCATransformerDecoder(**self.decoder)
        self.embed_dims = self.encoder.embed_dims
        self.query_embedding = nn.Embedding(self.num_queries, self.embed_dims)
        self._check_num_feats()
        self.feat_stride = self._resolve_feat_stride(self._feat_stride_cfg)
        self.center_stride = self._center_stride_cfg or self.feat_stride

    def _check_num_feats(self) -> None:
        """The sine encoding has ``2 * num_feats`` channels (x and y)."""
        num_feats = self.positional_encoding.num_feats
        if num_feats * 2 != self.embed_dims:
            raise ValueError(
                f'{type(self).__name__}: `positional_encoding.num_feats` '
                f'must be half of the embed dims, got {num_feats} and '
                f'{self.embed_dims}')

    def _resolve_feat_stride(self, feat_stride: Optional[int]) -> int:
        """The configured stride, or a ResNet backbone's output stride."""
        if feat_stride is not None:
            if not (isinstance(feat_stride, int) and feat_stride > 0):
                raise ValueError('SMCADETR: `model.feat_stride` must be a '
                                 f'positive int, got {feat_stride!r}')
            return feat_stride
        if isinstance(self.backbone, ResNet):
            return resnet_stride(self.backbone, self.backbone.out_indices[-1])
        raise ValueError(
            'SMCADETR: cannot read the feature stride from backbone '
            f'{type(self.backbone).__name__}; set `model.feat_stride` '
            '(pixels per cell of the map the transformer sees)')

    def init_weights(self) -> None:
        """DETR init (Xavier on all transformer matrices), then SMCA's scale
        init (weight 0, bias 1), which the Xavier pass overwrote."""
        super().init_weights()
        for layer in self.decoder.layers:
            layer.init_prior_weights()

    def pre_transformer(
            self,
            img_feats: Tuple[Tensor],
            batch_data_samples: OptSampleList = None) -> Tuple[Dict, Dict]:
        """DETR's masks and positional encoding, plus the prior's geometry.

        Adds to the decoder inputs ``valid_wh`` (``(bs, 2)``, each image's
        unpadded ``(w, h)`` from ``img_shape`` divided by ``center_stride``,
        in cells when it equals ``feat_stride``) and ``feat_hw`` (padded
        feature-map ``(h, w)``).
        """
        encoder_inputs_dict, decoder_inputs_dict = super().pre_transformer(
            img_feats, batch_data_samples)
        feat = img_feats[-1]
        feat_h, feat_w = feat.shape[-2:]
        check_stride('SMCADETR', self.feat_stride,
                     batch_data_samples[0].batch_input_shape,
                     (feat_h, feat_w), 'model.feat_stride')
        decoder_inputs_dict.update(
            valid_wh=image_wh(batch_data_samples, feat).to(feat.dtype) /
            self.center_stride,
            feat_hw=(feat_h, feat_w))
        return encoder_inputs_dict, decoder_inputs_dict

    def forward_decoder(self, query: Tensor, query_pos: Tensor, memory: Tensor,
                        memory_mask: Optional[Tensor], memory_pos: Tensor,
                        **geometry) -> Dict:
        """Forward with the SMCA decoder.

        Args:
            query (Tensor): ``(bs, nq, dim)`` zeros.
            query_pos (Tensor): Query embeddings, ``(bs, nq, dim)``.
            memory (Tensor): Encoder output, ``(bs, N, dim)``.
            memory_mask (Tensor, optional): ``(bs, N)``, True = padding.
            memory_pos (Tensor): Key positional encodings, ``(bs, N, dim)``.
            **geometry: The prior's key grid from :meth:`pre_transformer`:
                ``valid_wh`` (unpadded ``(w, h)`` in cells, ``(bs, 2)``)
                and ``feat_hw`` (padded ``(h, w)``); the multi-scale model
                passes ``valid_wh`` per level, ``spatial_shapes`` and
                ``level_start_index``.

        Returns:
            dict: ``hidden_states`` ``(num_layers, bs, nq, dim)`` and
            ``references``, the pre-sigmoid centres ``(bs, nq, 2)``.
        """
        hidden_states, center_logits = self.decoder(
            query=query,
            key=memory,
            value=memory,
            query_pos=query_pos,
            key_pos=memory_pos,
            key_padding_mask=memory_mask,
            **geometry)
        return dict(hidden_states=hidden_states, references=center_logits)

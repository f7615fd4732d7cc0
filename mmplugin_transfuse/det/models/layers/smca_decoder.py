"""SMCA decoder: DETR decoder whose co-attention is spatially modulated.

Every layer adds ``log G`` (Gaussian-like prior around each query's predicted
centre, :func:`gaussian_log_prior`) to its cross-attention logits through the
additive float ``cross_attn_mask`` of mmdet's
:class:`DetrTransformerDecoderLayer`; nothing else of the DETR layer changes.
SMCA's co-attention is then exactly ``softmax(Q K^T / sqrt(d) + log G) V``
(paper Eq. 5), i.e. ``F.scaled_dot_product_attention`` with an additive
float mask: with ``fused_attention`` (default) both attentions of the layer
run through :class:`SDPAMultiheadAttention` (same parameter names as mmcv's
``MultiheadAttention``, which materialises the weights).
Paper: Gao et al., "Fast Convergence of DETR with Spatially Modulated
Co-Attention", ICCV 2021, Sec. 3.2; reference code gaopengcuhk/SMCA-DETR
(``models/transformer.py``), whose module names are kept where they decide
checkpoint compatibility (``norm4``; ``point1``/``point2``/``point3`` map 1:1
to ``center_mlp``/``prior.offset_fc``/``prior.scale_fc``, see
``tools/model_converters/smca_official.py``).
"""
from typing import Optional, Tuple

import torch
from mmcv.cnn import build_norm_layer
from mmdet.models.layers.transformer import (DetrTransformerDecoder,
                                             DetrTransformerDecoderLayer)
from mmdet.models.layers.transformer.utils import MLP
from mmdet.utils import ConfigType, OptConfigType
from mmengine.model import ModuleList
from torch import Tensor

from mmplugin_transfuse.utils import maybe_checkpoint
from .gaussian_prior import SMCAPriorPredictor
from .sdpa_attention import SDPAMultiheadAttention, float_padding_mask


class SMCATransformerDecoderLayer(DetrTransformerDecoderLayer):
    """DETR decoder layer with the SMCA spatial prior predictors.

    The attention path is the inherited post-norm DETR layer (self-attention
    -> ``norms[0]``, co-attention -> ``norms[1]``, FFN -> ``norms[2]``);
    the prior enters as ``cross_attn_mask``. This class adds the predictors
    of the prior, all fed by ``norm4(layer input + query_pos)`` as in the
    reference code (in layer 0 the layer input is zero, so the centre
    depends on the query embedding only):

    * ``center_mlp`` (layer 0 only, reference ``point1``): 3-layer MLP
      256 -> 256 -> 256 -> 2, pre-sigmoid normalised centre ``(x, y)``.
    * ``prior`` (:class:`SMCAPriorPredictor`): ``prior.offset_fc``
      (reference ``point2``) and ``prior.scale_fc`` (``point3``), the
      per-head offsets and scales, and ``log G`` from them.

    Args:
        scale_mode (str): ``'Fixed'`` (centre only, scale 1), ``'Single'``
            (one scale for both axes), ``'Indep'`` (separate ``s_x, s_y``;
            the paper's best, default; paper Table 2) or ``'Cov'`` (the
            reference code's ``type4``: ``Indep`` plus a weight on
            ``dx^2 * dy^2``; not in the paper).
        head_shared_prior (bool): One prior shared by all heads (True) or
            one per head (False, default; "multi-head" in Table 2).
        beta (float): Smoothing constant of the prior. Defaults to 8.
        predict_center (bool): Build ``center_mlp`` (the first layer only).
        prior_unit (float): Length, in feature-map cells, of the unit the
            prior is measured in: ``offset_fc`` predicts offsets in it and
            ``beta`` applies to distances in it, i.e. ``points = c +
            prior_unit * offset`` and ``log G = -sum(s^2 (p - key)^2) /
            (beta * prior_unit^2)``. 1 (default) is the reference code
            (cells of the map the transformer sees). The reference set its
            ``beta`` and initialisation on COCO, whose short side is 25
            cells at stride 32: on a map of ``n`` cells, ``n / 25`` keeps
            the initial width, the initial spread of the head offsets and
            their learning steps the same fraction of the image.
        fused_attention (bool): Self- and co-attention through
            :class:`SDPAMultiheadAttention` (True, default) or mmcv's
            ``MultiheadAttention`` (False, the unfused reference path;
            checkpoints load into either).
        **kwargs: :class:`DetrTransformerDecoderLayer` arguments.
    """

    def __init__(self,
                 *args,
                 scale_mode: str = 'Indep',
                 head_shared_prior: bool = False,
                 beta: float = 8.0,
                 predict_center: bool = False,
                 prior_unit: float = 1.0,
                 fused_attention: bool = True,
                 **kwargs) -> None:
        if not isinstance(fused_attention, bool):
            raise TypeError('SMCATransformerDecoderLayer: `layer_cfg.'
                            'fused_attention` must be a bool, got '
                            f'{fused_attention!r}')
        # read by `_init_layers` (called by the parent constructor); the
        # predictor checks them
        self.scale_mode = scale_mode
        self.head_shared_prior = head_shared_prior
        self.beta = beta
        self.prior_unit = prior_unit
        self.predict_center = predict_center
        self.fused_attention = fused_attention
        super().__init__(*args, **kwargs)

    def _init_layers(self) -> None:
        """Build the DETR layer (fused attentions if asked), then ``norm4``,
        ``center_mlp`` and the prior predictor."""
        super()._init_layers()
        if self.fused_attention:
            self.self_attn = SDPAMultiheadAttention(**self.self_attn_cfg)
            self.cross_attn = SDPAMultiheadAttention(**self.cross_attn_cfg)
        self._init_prior_input()
        self.prior = self.build_prior(self.beta)

    def _init_prior_input(self) -> None:
        """``norm4`` (input of every predictor) and, in the first layer,
        ``center_mlp``: 3-layer MLP dim -> dim -> dim -> 2."""
        self.num_heads = self.cross_attn.num_heads
        self.norm4 = build_norm_layer(self.norm_cfg, self.embed_dims)[1]
        if self.predict_center:
            self.center_mlp = MLP(self.embed_dims, self.embed_dims, 2, 3)

    def build_prior(self, beta: float) -> SMCAPriorPredictor:
        """An offset/scale predictor with this layer's settings."""
        return SMCAPriorPredictor(self.embed_dims, self.num_heads,
                                  self.scale_mode, self.head_shared_prior,
                                  beta, self.prior_unit)

    def init_prior_weights(self) -> None:
        """Scale predictor: weight 0, bias 1 (all scales start at 1).

        DETR's ``init_weights`` re-initialises every matrix of the decoder
        with Xavier; :class:`SMCADETR` calls this again afterwards.
        """
        self.prior.init_weights()

    def init_weights(self) -> None:
        """Default init, then the SMCA scale init."""
        super().init_weights()
        self.init_prior_weights()

    def prior_input(self, query: Tensor, query_pos: Tensor) -> Tensor:
        """``norm4(query + query_pos)``, the input of all prior predictors.

        Args:
            query (Tensor): Layer input, ``(bs, num_queries, dim)``.
            query_pos (Tensor): Query embedding, ``(bs, num_queries, dim)``.

        Returns:
            Tensor: ``(bs, num_queries, dim)``.
        """
        return self.norm4(query + query_pos)

    def predict_centers(self, prior_query: Tensor) -> Tensor:
        """Pre-sigmoid normalised centres ``(x, y)``, ``(bs, nq, 2)``."""
        if not self.predict_center:
            raise RuntimeError(
                'SMCATransformerDecoderLayer: only the layer built with '
                '`predict_center=True` (the first one) predicts centres')
        return self.center_mlp(prior_query)


class SMCATransformerDecoder(DetrTransformerDecoder):
    """DETR decoder that feeds every layer the SMCA prior.

    The centre is predicted once, by the first layer, and reused by all
    layers (reference code): ``c = sigmoid(center_mlp(norm4_0(query_pos)))``
    scaled by each image's own unpadded size in cells, ``img_wh / stride``,
    so the centre lies inside the image's valid region rather than the
    padded batch. Each layer adds its own per-head offsets and scales.

    Args:
        num_layers (int): Number of decoder layers.
        layer_cfg (dict): :class:`SMCATransformerDecoderLayer` config (all
            layers; the first one also gets ``predict_center=True``).
        with_cp (bool): Gradient checkpointing (``torch.utils.checkpoint``)
            of every layer while training: the layer's activations are
            recomputed in the backward pass instead of stored, trading
            compute for memory. Outputs and gradients are unchanged (the
            RNG state is restored, so dropout draws the same masks).
            Defaults to False.
        **kwargs: :class:`DetrTransformerDecoder` arguments.
    """

    def __init__(self,
                 num_layers: int,
                 layer_cfg: ConfigType,
                 with_cp: bool = False,
                 post_norm_cfg: OptConfigType = dict(type='LN'),
                 return_intermediate: bool = True,
                 init_cfg: OptConfigType = None) -> None:
        if not isinstance(with_cp, bool):
            raise TypeError('SMCATransformerDecoder: `decoder.with_cp` must '
                            f'be a bool, got {with_cp!r}')
        self.with_cp = with_cp
        super().__init__(
            num_layers=num_layers,
            layer_cfg=layer_cfg,
            post_norm_cfg=post_norm_cfg,
            return_intermediate=return_intermediate,
            init_cfg=init_cfg)

    # the layer class; the multi-scale decoder swaps in its own
    layer_type = SMCATransformerDecoderLayer

    def _init_layers(self) -> None:
        """Build the SMCA layers and the post norm."""
        if 'predict_center' in self.layer_cfg:
            raise ValueError(
                f'{type(self).__name__}: `layer_cfg.predict_center` is set '
                'by the decoder (first layer only); remove it')
        layers = [
            self.layer_type(**self.layer_cfg, predict_center=layer_id == 0)
            for layer_id in range(self.num_layers)
        ]
        self.layers = ModuleList(layers)
        self.embed_dims = self.layers[0].embed_dims
        self.post_norm = build_norm_layer(self.post_norm_cfg,
                                          self.embed_dims)[1]

    def forward(self,
                query: Tensor,
                key: Tensor,
                value: Tensor,
                query_pos: Tensor,
                key_pos: Tensor,
                key_padding_mask: Optional[Tensor],
                valid_wh: Tensor,
                feat_hw: Tuple[int, int],
                **kwargs) -> Tuple[Tensor, Tensor]:
        """Forward with spatially modulated co-attention.

        Args:
            query (Tensor): ``(bs, nq, dim)``, zeros in DETR.
            key (Tensor): Encoder memory, ``(bs, h * w, dim)``.
            value (Tensor): Same as ``key`` (DETR passes None -> ``key``).
            query_pos (Tensor): Query embeddings, ``(bs, nq, dim)``.
            key_pos (Tensor): Key positional encodings, ``(bs, h * w, dim)``.
            key_padding_mask (Tensor, optional): ``(bs, h * w)`` bool, True
                at padded keys (or float, ``-inf`` at padded keys).
            valid_wh (Tensor): Each image's unpadded ``(w, h)`` in
                feature-map cells (pixels / stride), ``(bs, 2)``.
            feat_hw (tuple[int, int]): Padded feature-map ``(h, w)``.

        Returns:
            tuple[Tensor, Tensor]:

            - hidden_states: ``(num_layers, bs, nq, dim)`` if
              ``return_intermediate`` else ``(1, bs, nq, dim)``.
            - center_logits: pre-sigmoid normalised centres ``(x, y)``,
              ``(bs, nq, 2)`` (the box head adds them to the box centre).
        """
        if key_padding_mask is not None:
            # log G is a float attn_mask, and torch deprecates mixing it with
            # a bool padding mask (the unfused path): -inf at padded keys
            key_padding_mask = float_padding_mask(key_padding_mask,
                                                  query.dtype)
        center_logits = centers = None
        intermediate = []
        for layer_id, layer in enumerate(self.layers):
            prior_query = layer.prior_input(query, query_pos)
            if layer_id == 0:
                center_logits = layer.predict_centers(prior_query)
                centers = center_logits.sigmoid() * valid_wh.to(
                    center_logits.dtype).unsqueeze(1)
            log_prior = layer.prior(prior_query, centers, feat_hw)
            # checkpointed only when gradients flow: in eval/no_grad it
            # would just add overhead
            query = maybe_checkpoint(
                self,
                layer,
                query,
                key=key,
                value=value,
                query_pos=query_pos,
                key_pos=key_pos,
                key_padding_mask=key_padding_mask,
                cross_attn_mask=log_prior,
                **kwargs)
            if self.return_intermediate:
                intermediate.append(self.post_norm(query))
        if self.return_intermediate:
            return torch.stack(intermediate), center_logits
        return self.post_norm(query).unsqueeze(0), center_logits

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
to ``center_mlp``/``offset_fc``/``scale_fc``, see
``tools/model_converters/smca_official.py``).
"""
from typing import Optional, Tuple

import torch
from mmcv.cnn import Linear, build_norm_layer
from mmdet.models.layers.transformer import (DetrTransformerDecoder,
                                             DetrTransformerDecoderLayer)
from mmdet.models.layers.transformer.utils import MLP
from mmdet.utils import ConfigType, OptConfigType
from mmengine.model import ModuleList
from torch import Tensor, nn

from mmplugin_transfuse.utils import maybe_checkpoint
from .gaussian_prior import gaussian_log_prior
from .sdpa_attention import SDPAMultiheadAttention

# reference `--dynamic_scale` type1..type4, in that order
SCALE_MODES = ('Fixed', 'Single', 'Indep', 'Cov')


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
    * ``offset_fc`` (reference ``point2``): per-head centre offsets in
      feature-map cells, ``num_heads x (x, y)`` outputs (2 if head-shared).
    * ``scale_fc`` (reference ``point3``): per-head inverse bandwidths,
      ``num_heads x (x, y)`` outputs in ``Indep`` mode, ``num_heads`` in
      ``Single`` mode (1 or 2 if head-shared), ``num_heads x (x, y, xy)``
      in ``Cov`` mode (reference ``type4``, see :mod:`.gaussian_prior`),
      absent in ``Fixed`` mode (scale 1). Initialised to weight 0 / bias 1, so every scale starts
      at 1, as in the reference code.

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
        if scale_mode not in SCALE_MODES:
            raise ValueError(
                f'SMCATransformerDecoderLayer: `scale_mode` must be one of '
                f'{SCALE_MODES}, got {scale_mode!r}')
        if not beta > 0:
            raise ValueError('SMCATransformerDecoderLayer: `beta` must be '
                             f'> 0, got {beta!r}')
        self.scale_mode = scale_mode
        self.head_shared_prior = head_shared_prior
        self.beta = float(beta)
        if not prior_unit > 0:
            raise ValueError('SMCATransformerDecoderLayer: `prior_unit` '
                             f'must be > 0, got {prior_unit!r}')
        self.prior_unit = float(prior_unit)
        if not isinstance(fused_attention, bool):
            raise TypeError('SMCATransformerDecoderLayer: `layer_cfg.'
                            'fused_attention` must be a bool, got '
                            f'{fused_attention!r}')
        self.predict_center = predict_center
        self.fused_attention = fused_attention
        super().__init__(*args, **kwargs)

    def _init_layers(self) -> None:
        """Build the DETR layer (fused attentions if asked), then ``norm4``
        and the prior predictors."""
        super()._init_layers()
        if self.fused_attention:
            self.self_attn = SDPAMultiheadAttention(**self.self_attn_cfg)
            self.cross_attn = SDPAMultiheadAttention(**self.cross_attn_cfg)
        self.num_heads = self.cross_attn.num_heads
        num_priors = 1 if self.head_shared_prior else self.num_heads
        self.norm4 = build_norm_layer(self.norm_cfg, self.embed_dims)[1]
        if self.predict_center:
            self.center_mlp = MLP(self.embed_dims, self.embed_dims, 2, 3)
        self.offset_fc = Linear(self.embed_dims, 2 * num_priors)
        if self.scale_mode == 'Indep':
            self.scale_fc = Linear(self.embed_dims, 2 * num_priors)
        elif self.scale_mode == 'Single':
            self.scale_fc = Linear(self.embed_dims, num_priors)
        elif self.scale_mode == 'Cov':
            self.scale_fc = Linear(self.embed_dims, 3 * num_priors)
        else:
            self.scale_fc = None
        self.init_prior_weights()

    def init_prior_weights(self) -> None:
        """Scale predictor: weight 0, bias 1 (all scales start at 1).

        DETR's ``init_weights`` re-initialises every matrix of the decoder
        with Xavier; :class:`SMCADETR` calls this again afterwards.
        """
        if self.scale_fc is not None:
            nn.init.zeros_(self.scale_fc.weight)
            nn.init.ones_(self.scale_fc.bias)

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

    def spatial_prior(self, prior_query: Tensor, centers: Tensor,
                      feat_hw: Tuple[int, int]) -> Tensor:
        """``log G`` for this layer's co-attention.

        Args:
            prior_query (Tensor): :meth:`prior_input`, ``(bs, nq, dim)``.
            centers (Tensor): Query centres in feature-map cells,
                ``(bs, nq, 2)``, ``(x, y)``.
            feat_hw (tuple[int, int]): Padded feature-map ``(h, w)``; the
                keys are its cells (see :func:`gaussian_log_prior`).

        Returns:
            Tensor: ``(bs * num_heads, nq, h * w)`` additive attention bias
            in the dtype of ``prior_query``.
        """
        bs, num_queries, _ = prior_query.shape
        # the 2*nh outputs are read as nh x (x, y) (reference layout)
        offsets = self.offset_fc(prior_query).view(bs, num_queries, -1, 2)
        points = centers.unsqueeze(2) + self.prior_unit * offsets
        scales = None
        if self.scale_fc is not None:
            scales = self.scale_fc(prior_query).view(
                bs, num_queries, points.size(2), -1)
        if self.head_shared_prior:
            points = points.expand(-1, -1, self.num_heads, -1)
            if scales is not None:
                scales = scales.expand(-1, -1, self.num_heads, -1)
        return gaussian_log_prior(
            points,
            feat_hw,
            scales,
            beta=self.beta * self.prior_unit**2,
            dtype=prior_query.dtype)


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
        if key_padding_mask is not None and key_padding_mask.dtype == \
                torch.bool:
            # torch adds a float padding mask to the float attn_mask (log G);
            # give it that form (-inf at padded keys) ourselves, as torch
            # deprecates mixing a bool padding mask with a float attn_mask
            key_padding_mask = torch.zeros_like(
                key_padding_mask, dtype=query.dtype).masked_fill(
                    key_padding_mask, float('-inf'))
        center_logits = centers = None
        intermediate = []
        for layer_id, layer in enumerate(self.layers):
            prior_query = layer.prior_input(query, query_pos)
            if layer_id == 0:
                center_logits = layer.predict_centers(prior_query)
                centers = center_logits.sigmoid() * valid_wh.to(
                    center_logits.dtype).unsqueeze(1)
            log_prior = layer.spatial_prior(prior_query, centers, feat_hw)
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

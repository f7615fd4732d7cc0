"""SMCA-DETR's single-scale encoder: DETR's, with fused attention and
optional checkpointing.

Single-scale SMCA leaves the encoder as in DETR (paper Sec. 3.2; reference
code gaopengcuhk/SMCA-DETR ``models/transformer.py``). Two things change how
it runs, not what it computes:

* ``fused_attention`` (default on): the self-attention goes through
  :class:`SDPAMultiheadAttention` (``F.scaled_dot_product_attention``) instead
  of mmcv's ``MultiheadAttention``, which calls ``nn.MultiheadAttention``
  with ``need_weights=True`` and so materialises and head-averages the
  attention matrix and rules out torch's fused kernels. Parameter names are
  the same (``self_attn.attn.in_proj_weight``, ``...out_proj``), so
  checkpoints load either way and the outputs agree to float rounding.
* ``with_cp``: mmdet's :class:`DetrTransformerEncoder` offers checkpointing
  only through fairscale (``num_cp``); this encoder uses
  ``torch.utils.checkpoint`` instead.
"""
from mmdet.models.layers import (DetrTransformerEncoder,
                                 DetrTransformerEncoderLayer)
from mmengine.model import ModuleList
from torch import Tensor

from mmplugin_transfuse.utils import maybe_checkpoint
from .sdpa_attention import SDPAMultiheadAttention


class SMCATransformerEncoderLayer(DetrTransformerEncoderLayer):
    """DETR's post-norm encoder layer with a fused-attention switch.

    Args:
        fused_attention (bool): Self-attention through
            :class:`SDPAMultiheadAttention` (True, default) or mmcv's
            ``MultiheadAttention`` (False, the unfused reference path).
        **kwargs: :class:`DetrTransformerEncoderLayer` arguments.
    """

    def __init__(self, *args, fused_attention: bool = True, **kwargs) -> None:
        if not isinstance(fused_attention, bool):
            raise TypeError('SMCATransformerEncoderLayer: `layer_cfg.'
                            'fused_attention` must be a bool, got '
                            f'{fused_attention!r}')
        self.fused_attention = fused_attention
        super().__init__(*args, **kwargs)

    def _init_layers(self) -> None:
        """DETR's layer; the self-attention swapped for the fused one (same
        parameter names)."""
        super()._init_layers()
        if self.fused_attention:
            self.self_attn = SDPAMultiheadAttention(**self.self_attn_cfg)


class SMCATransformerEncoder(DetrTransformerEncoder):
    """:class:`DetrTransformerEncoder` of
    :class:`SMCATransformerEncoderLayer` layers, with ``with_cp``.

    Args:
        layer_cfg (dict): :class:`SMCATransformerEncoderLayer` config,
            ``fused_attention`` included.
        with_cp (bool): Gradient checkpointing (``torch.utils.checkpoint``,
            non-reentrant) of every layer while training: activations are
            recomputed in the backward pass instead of stored. Outputs and
            gradients are unchanged (the RNG state is restored, so dropout
            draws the same masks). Defaults to False.
        *args, **kwargs: :class:`DetrTransformerEncoder` arguments.
    """

    def __init__(self, *args, with_cp: bool = False, **kwargs) -> None:
        if not isinstance(with_cp, bool):
            raise TypeError('SMCATransformerEncoder: `encoder.with_cp` must '
                            f'be a bool, got {with_cp!r}')
        self.with_cp = with_cp
        super().__init__(*args, **kwargs)

    def _init_layers(self) -> None:
        """``num_layers`` SMCA encoder layers (``with_cp`` replaces
        fairscale's ``num_cp``)."""
        if self.num_cp > 0:
            raise ValueError('SMCATransformerEncoder: `encoder.num_cp` needs '
                             'fairscale; use `encoder.with_cp=True` '
                             '(torch.utils.checkpoint) instead')
        self.layers = ModuleList([
            SMCATransformerEncoderLayer(**self.layer_cfg)
            for _ in range(self.num_layers)
        ])
        self.embed_dims = self.layers[0].embed_dims

    def forward(self, query: Tensor, query_pos: Tensor,
                key_padding_mask: Tensor, **kwargs) -> Tensor:
        """Run the layers, checkpointed when ``with_cp`` and training.

        Args:
            query (Tensor): Flattened features, ``(bs, h * w, dim)``.
            query_pos (Tensor): Positional encodings, ``(bs, h * w, dim)``.
            key_padding_mask (Tensor): ``(bs, h * w)``, True at padding.

        Returns:
            Tensor: Encoder memory, ``(bs, h * w, dim)``.
        """
        for layer in self.layers:
            query = maybe_checkpoint(self, layer, query, query_pos,
                                     key_padding_mask, **kwargs)
        return query

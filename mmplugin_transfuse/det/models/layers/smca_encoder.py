"""SMCA-DETR's single-scale encoder: DETR's, with optional checkpointing.

Single-scale SMCA leaves the encoder as in DETR (paper Sec. 3.2; reference
code gaopengcuhk/SMCA-DETR ``models/transformer.py``). mmdet's
:class:`DetrTransformerEncoder` offers checkpointing only through fairscale
(``num_cp``); this subclass uses ``torch.utils.checkpoint`` instead.
"""
import torch.utils.checkpoint as cp
from mmdet.models.layers import DetrTransformerEncoder
from torch import Tensor

from mmplugin_transfuse.utils import use_grad_checkpointing


class SMCATransformerEncoder(DetrTransformerEncoder):
    """:class:`DetrTransformerEncoder` with ``with_cp``.

    Args:
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
        use_cp = use_grad_checkpointing(self)
        for layer in self.layers:
            if use_cp:
                query = cp.checkpoint(
                    layer,
                    query,
                    query_pos,
                    key_padding_mask,
                    use_reentrant=False,
                    **kwargs)
            else:
                query = layer(query, query_pos, key_padding_mask, **kwargs)
        return query

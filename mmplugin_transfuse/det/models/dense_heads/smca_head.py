"""SMCA-DETR box head: the box centre is conditioned on the query centre."""
from typing import Tuple

import torch
from mmdet.models.dense_heads import ConditionalDETRHead
from mmdet.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class SMCADETRHead(ConditionalDETRHead):
    """DETR head whose boxes are relative to SMCA's predicted centres.

    Paper Sec. 3.2, "box prediction": ``Box = sigmoid(MLP(D) + [logit(c),
    0, 0])`` on every decoder layer's output (auxiliary losses included).
    Like the reference code, the pre-sigmoid centre (the centre MLP's raw
    output) is added as it is, instead of ``inverse_sigmoid(sigmoid(.))`` as
    :class:`ConditionalDETRHead` does with its normalised references (that
    round trip clamps at ``eps=1e-5``). Everything else - focal/L1/GIoU
    losses, Hungarian matching, the 0.01-prior class bias, post-processing -
    is :class:`ConditionalDETRHead`'s.
    """

    def forward(self, hidden_states: Tensor,
                references: Tensor) -> Tuple[Tensor, Tensor]:
        """Class scores and centre-conditioned boxes of every layer.

        Args:
            hidden_states (Tensor): Decoder outputs, ``(num_layers, bs, nq,
                dim)`` (or ``(1, bs, nq, dim)`` at prediction).
            references (Tensor): Pre-sigmoid normalised query centres
                ``(x, y)``, ``(bs, nq, 2)``, shared by all layers.

        Returns:
            tuple[Tensor, Tensor]: ``layers_cls_scores`` ``(num_layers, bs,
            nq, cls_out_channels)`` and ``layers_bbox_preds`` ``(num_layers,
            bs, nq, 4)``, normalised ``(cx, cy, w, h)``.
        """
        if references.shape[-1] != 2 or references.shape[:-1] != \
                hidden_states.shape[1:3]:
            raise ValueError(
                'SMCADETRHead: `references` must be the pre-sigmoid centres '
                f'(bs, num_queries, 2) = {tuple(hidden_states.shape[1:3])} '
                f'+ (2,), got {tuple(references.shape)}')
        reg_preds = self.fc_reg(self.activate(self.reg_ffn(hidden_states)))
        # add [logit(c), 0, 0] to every layer's raw box (broadcast over layers)
        center_term = torch.cat(
            [references, references.new_zeros(references.shape)], dim=-1)
        layers_bbox_preds = (reg_preds + center_term).sigmoid()
        layers_cls_scores = self.fc_cls(hidden_states)
        return layers_cls_scores, layers_bbox_preds

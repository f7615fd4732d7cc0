"""Graph-exportable forwards: what an ONNX model of each task computes.

The exported graphs follow mmdeploy's conventions: one input ``input``, the
output of the model's data preprocessor ``(N, 3, H, W)`` float32, and

* segmentation: ``seg_logits``, the segmentor's ``mode='tensor'`` output;
* detection: ``dets`` ``(N, K, 5)`` (``x1, y1, x2, y2`` in input pixels,
  score) and ``labels`` ``(N, K)`` int64, equal to ``model.predict(input,
  samples, rescale=False)`` for images that fill the input (``img_shape ==
  batch_input_shape == (H, W)``), with ``K = test_cfg.max_per_img``. The
  DETR post-processing (top-k over queries x classes for a sigmoid
  classifier, or over queries of the softmax maximum for DETR's
  cross-entropy one; ``cxcywh -> xyxy``; scaling and clamping to the image)
  is inside the graph.
"""
from typing import Tuple

import torch
from torch import Tensor, nn


class ImageMeta:
    """What the DETR family reads of a data sample before its head: the
    image and batch input sizes (here both the input's ``(H, W)``).

    A plain object, not a ``DetDataSample``, whose metainfo is deep-copied
    (symbolic sizes do not survive that) and which dynamo cannot trace.
    """

    def __init__(self, img_shape: Tuple, batch_input_shape: Tuple) -> None:
        self.img_shape = img_shape
        self.batch_input_shape = batch_input_shape


class SegExportWrapper(nn.Module):
    """``input (N, 3, H, W) -> seg_logits``: an mmseg segmentor in
    ``mode='tensor'`` (for TransFuse the fused 1/4 head's logits, ``(N,
    out_channels, H/4, W/4)``)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 (ONNX name)
        return self.model(input, None, mode='tensor')


class DetExportWrapper(nn.Module):
    """``input (N, 3, H, W) -> (dets (N, K, 5), labels (N, K))`` for an mmdet
    DETR-family detector (``DETR``, ``ConditionalDETR``, ``SMCADETR``,
    ``SMCADETRMultiScale``: a ``forward_transformer`` whose head takes its
    outputs and returns per-layer class logits and normalised ``(cx, cy, w,
    h)`` boxes).

    Vectorised over the batch, the same arithmetic as mmdet's
    ``DETRHead._predict_by_feat_single`` with ``rescale=False``.

    The detector is given one data sample for the whole batch: every image
    fills the input, so all share one size, and the detectors take the
    batch size from the feature maps and broadcast the per-image geometry
    (``(1, 2)`` image sizes) over it. The graph's N is thus free to be
    dynamic, like H and W.

    Args:
        model (nn.Module): The detector, in eval mode.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        head = model.bbox_head
        for attr in ('forward_transformer', 'extract_feat'):
            if not hasattr(model, attr):
                raise TypeError(
                    f'{type(model).__name__} is not a DETR-family detector '
                    f'(no `{attr}`): detection export supports mmdet '
                    'DetectionTransformer subclasses')
        self.model = model
        self.max_per_img = int(head.test_cfg.get('max_per_img',
                                                 model.num_queries))
        self.use_sigmoid = bool(head.loss_cls.use_sigmoid)
        self.num_classes = int(head.num_classes)

    def forward(self, input: Tensor) -> Tuple[Tensor, Tensor]:  # noqa: A002
        h, w = input.shape[-2:]
        # every image fills the input: one sample stands for the batch
        sample = ImageMeta(img_shape=(h, w), batch_input_shape=(h, w))
        head_inputs = self.model.forward_transformer(
            self.model.extract_feat(input), [sample])
        head_inputs['hidden_states'] = head_inputs['hidden_states'][-1:]
        cls_scores, boxes = self.model.bbox_head(**head_inputs)
        return self.postprocess(cls_scores[-1], boxes[-1], h, w)

    def postprocess(self, cls_scores: Tensor, boxes: Tensor, h,
                    w) -> Tuple[Tensor, Tensor]:
        """Top-k detections of every image.

        Args:
            cls_scores (Tensor): ``(N, nq, C)`` logits (``C = num_classes``
                for a sigmoid classifier, ``num_classes + 1`` with the
                background last for a softmax one).
            boxes (Tensor): ``(N, nq, 4)`` normalised ``(cx, cy, w, h)``.
            h, w: Image height and width in pixels (ints or symbolic).

        Returns:
            tuple[Tensor, Tensor]: ``dets (N, K, 5)``, ``labels (N, K)``.
        """
        k = self.max_per_img
        if self.use_sigmoid:
            scores, index = cls_scores.sigmoid().flatten(1).topk(k, dim=1)
            labels = index % self.num_classes
            query = index // self.num_classes
        else:
            scores, labels = cls_scores.softmax(-1)[..., :-1].max(-1)
            scores, query = scores.topk(k, dim=1)
            labels = labels.gather(1, query)
        boxes = boxes.gather(1, query.unsqueeze(-1).expand(-1, -1, 4))
        cx, cy, bw, bh = boxes.unbind(-1)
        x1 = ((cx - 0.5 * bw) * w).clamp(0, w)
        y1 = ((cy - 0.5 * bh) * h).clamp(0, h)
        x2 = ((cx + 0.5 * bw) * w).clamp(0, w)
        y2 = ((cy + 0.5 * bh) * h).clamp(0, h)
        dets = torch.stack([x1, y1, x2, y2, scores], dim=-1)
        return dets, labels.long()

"""SMCADETRHead: Box = sigmoid(MLP(D) + [logit(c), 0, 0]) on every layer,
and the reference code's loss normalisation."""
import math

import pytest
import torch
from mmdet.models.dense_heads import detr_head
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData

from .conftest import load_r50_cfg

EMBED = 16  # tiny: no assertion here needs the 256-wide head
NUM_CLASSES = 3


def build_head(embed_dims=EMBED, num_classes=NUM_CLASSES):
    """The R50 config's head (losses, costs, normaliser), tiny dims."""
    cfg = load_r50_cfg().model
    head_cfg = cfg.bbox_head
    head_cfg.update(
        embed_dims=embed_dims,
        num_classes=num_classes,
        train_cfg=cfg.train_cfg,
        test_cfg=cfg.test_cfg)
    head = MODELS.build(head_cfg)
    head.init_weights()
    return head.eval()


def test_box_adds_centre_logit_on_every_layer():
    head = build_head()
    # the box MLP's last layer outputs a known constant whatever D is
    raw = torch.tensor([0.3, -0.7, -1.2, 0.4])
    with torch.no_grad():
        head.fc_reg.weight.zero_()
        head.fc_reg.bias.copy_(raw)
    torch.manual_seed(0)
    hidden = torch.randn(3, 2, 5, EMBED)
    center_logits = torch.randn(2, 5, 2) * 3
    with torch.no_grad():
        cls, boxes = head(hidden, center_logits)
    assert cls.shape == (3, 2, 5, NUM_CLASSES) and boxes.shape == (3, 2, 5, 4)
    for layer in range(3):  # same centre added on every layer
        for b in range(2):
            for q in range(5):
                cx, cy = center_logits[b, q].tolist()
                want = [
                    1 / (1 + math.exp(-(raw[0].item() + cx))),
                    1 / (1 + math.exp(-(raw[1].item() + cy))),
                    1 / (1 + math.exp(-raw[2].item())),
                    1 / (1 + math.exp(-raw[3].item())),
                ]
                torch.testing.assert_close(
                    boxes[layer, b, q], torch.tensor(want), atol=1e-6,
                    rtol=1e-5)


def test_focal_class_prior_init():
    head = build_head()
    # ConditionalDETRHead's 0.01-prior bias (the reference code's too)
    torch.testing.assert_close(
        head.fc_cls.bias, torch.full((NUM_CLASSES, ), -4.59512), atol=1e-4,
        rtol=0)


def test_bad_references_shape():
    head = build_head()
    with pytest.raises(ValueError, match='references'):
        head(torch.randn(6, 2, 5, EMBED), torch.randn(2, 5, 4))


def focal_sum(logits, target_class, alpha=0.25, gamma=2.0):
    """The reference ``sigmoid_focal_loss`` summed over one query's classes,
    written out per class."""
    total = 0.0
    for c, x in enumerate(logits.tolist()):
        p = 1 / (1 + math.exp(-x))
        if c == target_class:
            total += -alpha * (1 - p)**gamma * math.log(p)
        else:
            total += -(1 - alpha) * p**gamma * math.log(1 - p)
    return total


def test_class_loss_is_divided_by_box_count_averaged_over_processes(
        monkeypatch):
    """Reference SetCriterion: ``num_boxes`` = all-reduced box count / world
    size (>= 1) divides the focal loss as it does L1 and GIoU."""
    head = build_head().train()
    torch.manual_seed(0)
    # one query per image and one box per image: the matching is forced
    hidden = torch.randn(1, 2, 1, EMBED)
    refs = torch.zeros(2, 1, 2)
    samples = []
    for label in (1, 2):
        s = DetDataSample(metainfo=dict(img_shape=(64, 64)))
        s.gt_instances = InstanceData(
            bboxes=torch.tensor([[8.0, 8.0, 40.0, 48.0]]),
            labels=torch.tensor([label]))
        samples.append(s)
    with torch.no_grad():
        cls_scores, _ = head(hidden, refs)
    focal = focal_sum(cls_scores[0, 0, 0], 1) + focal_sum(
        cls_scores[0, 1, 0], 2)
    # one process: 2 boxes
    losses = head.loss(hidden, refs, samples)
    torch.testing.assert_close(
        losses['loss_cls'].item(), 2.0 * focal / 2, rtol=1e-5, atol=1e-6)
    # 8 processes whose box counts average to 5: every term divides by 5
    monkeypatch.setattr(detr_head, 'reduce_mean',
                        lambda t: torch.full_like(t, 5.0))
    synced = head.loss(hidden, refs, samples)
    torch.testing.assert_close(
        synced['loss_cls'].item(), 2.0 * focal / 5, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(synced['loss_bbox'],
                               losses['loss_bbox'] * 2 / 5)

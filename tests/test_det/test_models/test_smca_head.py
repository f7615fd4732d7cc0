"""SMCADETRHead: Box = sigmoid(MLP(D) + [logit(c), 0, 0]) on every layer."""
import pytest
import torch
from mmdet.registry import MODELS

from .conftest import load_r50_cfg


def build_head():
    cfg = load_r50_cfg().model
    head_cfg = cfg.bbox_head
    head_cfg.update(train_cfg=cfg.train_cfg, test_cfg=cfg.test_cfg)
    head = MODELS.build(head_cfg)
    head.init_weights()
    return head.eval()


def test_box_adds_centre_logit_on_every_layer():
    head = build_head()
    torch.manual_seed(0)
    hidden = torch.randn(6, 2, 5, 256)
    center_logits = torch.randn(2, 5, 2) * 3
    with torch.no_grad():
        cls, boxes = head(hidden, center_logits)
        raw = head.fc_reg(head.activate(head.reg_ffn(hidden)))
    assert cls.shape == (6, 2, 5, 80) and boxes.shape == (6, 2, 5, 4)
    want = raw.clone()
    want[..., :2] += center_logits  # same centre for all 6 layers
    torch.testing.assert_close(boxes, want.sigmoid())
    # the logit is added as is: shifting it shifts logit(cx, cy) only
    with torch.no_grad():
        _, shifted = head(hidden, center_logits + 1.0)
    delta = torch.logit(shifted.double()) - torch.logit(boxes.double())
    torch.testing.assert_close(
        delta[..., :2], torch.ones_like(delta[..., :2]), atol=1e-3, rtol=0)
    torch.testing.assert_close(
        delta[..., 2:], torch.zeros_like(delta[..., 2:]), atol=1e-6, rtol=0)


def test_focal_class_prior_init():
    head = build_head()
    # ConditionalDETRHead's 0.01-prior bias (the reference code's too)
    torch.testing.assert_close(
        head.fc_cls.bias, torch.full((80, ), -4.59512), atol=1e-4, rtol=0)


def test_bad_references_shape():
    head = build_head()
    with pytest.raises(ValueError, match='references'):
        head(torch.randn(6, 2, 5, 256), torch.randn(2, 5, 4))

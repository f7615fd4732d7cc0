"""SMCADETR end to end on the real R50 config at a small input."""
import os.path as osp

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine import Config
from mmengine.structures import InstanceData

from .conftest import SMCA_CFG_DIR, load_r50_cfg

BATCH_HW = (64, 96)


def make_samples(with_boxes):
    """Two images in a 64x96 batch; the second is 50x70 (padded)."""
    samples = []
    for has_box, shape in zip(with_boxes, [(64, 96), (50, 70)]):
        s = DetDataSample(
            metainfo=dict(
                img_shape=shape,
                ori_shape=shape,
                batch_input_shape=BATCH_HW,
                pad_shape=BATCH_HW,
                scale_factor=(1.0, 1.0)))
        gt = InstanceData()
        if has_box:
            gt.bboxes = torch.tensor([[10.0, 8.0, 40.0, 44.0]])
            gt.labels = torch.tensor([3])
        else:
            gt.bboxes = torch.zeros(0, 4)
            gt.labels = torch.zeros(0, dtype=torch.long)
        s.gt_instances = gt
        samples.append(s)
    return samples


@pytest.fixture(scope='module')
def model():
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    torch.manual_seed(0)
    m = MODELS.build(load_r50_cfg().model)
    m.init_weights()
    return m


def test_stride_and_scale_init(model):
    # C5 of a ResNet: stem 4 x strides (1, 2, 2, 2)
    assert model.feat_stride == 32 and model.center_stride == 32
    # DETR's Xavier pass must not undo the reference scale init (weight 0,
    # bias 1: every scale starts at 1)
    for layer in model.decoder.layers:
        assert torch.all(layer.prior.scale_fc.weight == 0)
        assert torch.all(layer.prior.scale_fc.bias == 1)


def tiny_cfg(**backbone):
    """The R50 config shrunk for assertions that need no full model:
    ResNet-18, 1 encoder + 1 decoder layer, 10 queries."""
    cfg = load_r50_cfg().model
    cfg.backbone.update(depth=18, **backbone)
    cfg.neck.in_channels = [512]
    cfg.encoder.num_layers = 1
    cfg.decoder.num_layers = 1
    cfg.num_queries = 10
    cfg.test_cfg.max_per_img = 10
    return cfg


def test_empty_gt_gives_only_class_loss():
    cfg = tiny_cfg()
    cfg.decoder.num_layers = 2  # one auxiliary layer
    model = MODELS.build(cfg).train()
    x = torch.randn(2, 3, *BATCH_HW)
    losses = model.loss(x, make_samples([False, False]))
    for prefix in ['', 'd0.']:
        assert losses[prefix + 'loss_cls'] > 0
        assert losses[prefix + 'loss_bbox'] == 0
        assert losses[prefix + 'loss_iou'] == 0


def test_loss_backward_predict(model):
    model.train()
    model.zero_grad()
    x = torch.randn(2, 3, *BATCH_HW)
    samples = make_samples([True, False])
    # the decoder gets each image's own size in cells (img_shape / stride)
    seen = {}
    handle = model.decoder.register_forward_pre_hook(
        lambda mod, args, kwargs: seen.update(kwargs), with_kwargs=True)
    losses = model.loss(x, samples)
    handle.remove()
    torch.testing.assert_close(seen['valid_wh'],
                               torch.tensor([[3.0, 2.0], [70 / 32, 50 / 32]]))
    assert seen['feat_hw'] == (2, 3)
    assert seen['key_padding_mask'] is not None
    # aux losses on all 6 decoder layers, every term positive
    assert len([k for k in losses if k.endswith('loss_cls')]) == 6
    for name, value in losses.items():
        assert torch.isfinite(value) and value > 0, name
    sum(losses.values()).backward()
    # every trainable parameter takes part (unused ones break DDP); outside
    # the backbone the gradient is non-zero too (inside, the random-init
    # residual branches start at bn3.weight = 0 and frozen BN keeps them so)
    missing = [
        n for n, p in model.named_parameters()
        if p.requires_grad and p.grad is None
    ]
    assert missing == []
    # (DETR: layer 0's self-attention sees an all-zero query, so its
    # weights and norms[0].weight get exactly zero gradient at init)
    zero = {
        n
        for n, p in model.named_parameters()
        if p.requires_grad and not n.startswith('backbone.')
        and not torch.any(p.grad != 0)
    }
    assert zero <= {
        'decoder.layers.0.self_attn.attn.in_proj_weight',
        'decoder.layers.0.self_attn.attn.out_proj.weight',
        'decoder.layers.0.norms.0.weight'
    }

    model.eval()
    with torch.no_grad():
        results = model.predict(x, make_samples([True, False]))
        head_out = model._forward(x, make_samples([True, False]))
    assert head_out[0].shape == (6, 2, 300, 80)
    for res, (h, w) in zip(results, [(64, 96), (50, 70)]):
        pred = res.pred_instances
        # the reference keeps the top num_queries (300) (query, class) pairs
        assert pred.bboxes.shape == (300, 4) and pred.scores.shape == (300, )
        assert pred.labels.max() < 80
        assert torch.all(pred.bboxes[:, 2] <= w) and torch.all(
            pred.bboxes[:, 3] <= h)


def decoder_inputs(model) -> dict:
    """The keyword inputs the decoder gets for the 64x96 test batch."""
    seen = {}
    handle = model.decoder.register_forward_pre_hook(
        lambda mod, args, kwargs: seen.update(kwargs), with_kwargs=True)
    with torch.no_grad():
        model.eval()._forward(
            torch.randn(2, 3, *BATCH_HW), make_samples([True, False]))
    handle.remove()
    return seen


def test_feat_stride_from_backbone_or_config():
    dc5 = tiny_cfg(strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2))
    assert MODELS.build(dc5).feat_stride == 16
    c4 = tiny_cfg(out_indices=(2, ))
    c4.neck.in_channels = [256]
    assert MODELS.build(c4).feat_stride == 16
    # a non-ResNet backbone: its stride is not read but must be configured,
    # and the prior then measures centres in those cells (64x96 / 32)
    other = tiny_cfg()
    other.backbone = dict(type='MobileNetV2', out_indices=(7, ))
    other.neck.in_channels = [1280]
    with pytest.raises(ValueError, match='from backbone MobileNetV2'):
        MODELS.build(other)
    other.feat_stride = 32
    seen = decoder_inputs(MODELS.build(other))
    assert seen['feat_hw'] == (2, 3)
    torch.testing.assert_close(seen['valid_wh'],
                               torch.tensor([[3.0, 2.0], [70 / 32, 50 / 32]]))
    for name in ('feat_stride', 'center_stride'):
        bad = tiny_cfg()
        bad[name] = 0
        with pytest.raises(ValueError, match=name):
            MODELS.build(bad)


def test_wrong_feat_stride_is_caught():
    cfg = tiny_cfg()
    cfg.feat_stride = 8  # the ResNet C5 map is at stride 32
    model = MODELS.build(cfg).eval()
    with pytest.raises(ValueError, match='feat_stride'):
        with torch.no_grad():
            model.predict(
                torch.randn(2, 3, *BATCH_HW), make_samples([True, False]))


@pytest.mark.parametrize('center_stride, want_wh', [
    (None, [[96 / 16, 64 / 16], [70 / 16, 50 / 16]]),
    (32, [[96 / 32, 64 / 32], [70 / 32, 50 / 32]]),
])
def test_dc5_center_units(center_stride, want_wh):
    """DC5 keys are stride-16 cells; the centre is img / 16 cells by default
    and img / 32 with the reference code's hard-coded units."""
    cfg = tiny_cfg(strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2))
    cfg.center_stride = center_stride
    seen = decoder_inputs(MODELS.build(cfg))
    assert seen['feat_hw'] == (4, 6)  # 64x96 / 16
    torch.testing.assert_close(seen['valid_wh'], torch.tensor(want_wh))


def test_dc5_config_trains_one_step():
    """The DC5-R50 config (stride-16 dilated C5) runs a loss + backward."""
    cfg = Config.fromfile(
        osp.join(SMCA_CFG_DIR, 'smca-detr_r50-dc5_8xb2-50e_coco.py'))
    cfg.model.backbone.init_cfg = None
    # the DC5 backbone is what this checks; one transformer layer each
    cfg.model.encoder.num_layers = 1
    cfg.model.decoder.num_layers = 1
    model = MODELS.build(cfg.model)
    assert model.feat_stride == 16
    model.train()
    seen = {}
    handle = model.decoder.register_forward_pre_hook(
        lambda mod, args, kwargs: seen.update(kwargs), with_kwargs=True)
    losses = model.loss(torch.randn(2, 3, *BATCH_HW), make_samples([True,
                                                                     True]))
    handle.remove()
    assert seen['feat_hw'] == (4, 6)  # 64x96 / 16
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert torch.isfinite(total)
    assert model.decoder.layers[0].prior.scale_fc.weight.grad is not None

"""TransFuseHead: outputs in train/eval, deep-supervised loss, binary/C."""
import pytest
import torch
import torch.nn.functional as F

from mmseg.registry import MODELS


def head_cfg(out_channels=1, num_classes=2, with_branch=True, **kwargs):
    in_channels = (32, 16, 8, 8) if with_branch else (32, 16, 8)
    names = ['loss_fused', 'loss_branch', 'loss_coarse']
    weights = [0.5, 0.3, 0.2]
    if not with_branch:
        names, weights = ['loss_fused', 'loss_coarse'], [0.5, 0.2]
    cfg = dict(
        type='TransFuseHead',
        in_channels=in_channels,
        channels=8,
        num_classes=num_classes,
        out_channels=out_channels,
        threshold=0.5,
        norm_cfg=dict(type='BN'),
        loss_decode=[
            dict(type='StructureLoss', loss_weight=w, loss_name=n)
            for n, w in zip(names, weights)
        ])
    cfg.update(kwargs)
    return cfg


def feats(batch=2, with_branch=True):
    f = [
        torch.randn(batch, 32, 4, 6),
        torch.randn(batch, 16, 8, 12),
        torch.randn(batch, 8, 16, 24)
    ]
    return f + [torch.randn(batch, 8, 16, 24)] if with_branch else f


@pytest.mark.parametrize('out_channels,num_classes', [(1, 2), (3, 3)])
def test_train_and_eval_outputs(out_channels, num_classes, make_samples):
    head = MODELS.build(head_cfg(out_channels, num_classes))
    head.train()
    fused, branch, coarse = head(feats())
    assert fused.shape == (2, out_channels, 16, 24)
    assert branch.shape == (2, out_channels, 16, 24)
    assert coarse.shape == (2, out_channels, 4, 6)
    losses = head.loss(feats(), make_samples(2, 64, 96, num_classes), None)
    assert set(losses) == {
        'loss_fused', 'loss_branch', 'loss_coarse', 'acc_seg'
    }
    assert all(losses[k] > 0 for k in losses if k.startswith('loss_'))
    head.eval()
    logits = head.predict(feats(),
                          [dict(img_shape=(64, 96), pad_shape=(64, 96))], None)
    assert logits.shape == (2, out_channels, 64, 96)


def test_loss_weights_are_applied(make_samples):
    torch.manual_seed(0)
    head = MODELS.build(head_cfg())
    head.train()
    x = feats()
    samples = make_samples(2, 64, 96)
    outputs = head(x)
    losses = head.loss_by_feat(outputs, samples)
    unit = MODELS.build(dict(type='StructureLoss'))
    label = torch.stack([s.gt_sem_seg.data for s in samples]).squeeze(1)
    for logits, name, w in zip(outputs,
                               ['loss_fused', 'loss_branch', 'loss_coarse'],
                               [0.5, 0.3, 0.2]):
        up = torch.nn.functional.interpolate(
            logits, size=(64, 96), mode='bilinear', align_corners=True)
        torch.testing.assert_close(losses[name], w * unit(up, label))


def test_without_branch_head(make_samples):
    head = MODELS.build(head_cfg(with_branch=False))
    assert head.branch_head is None
    head.train()
    outs = head(feats(with_branch=False))
    assert len(outs) == 2
    losses = head.loss(feats(with_branch=False), make_samples(2, 64, 96), None)
    assert set(losses) == {'loss_fused', 'loss_coarse', 'acc_seg'}


def test_wrong_number_of_losses():
    cfg = head_cfg()
    cfg['loss_decode'] = cfg['loss_decode'][:2]
    with pytest.raises(ValueError, match='expected 3 losses'):
        MODELS.build(cfg)
    cfg = head_cfg()
    cfg['in_channels'] = (32, 16)
    with pytest.raises(ValueError, match='in_channels'):
        MODELS.build(cfg)


def test_binary_accuracy_uses_threshold(make_samples):
    head = MODELS.build(head_cfg())
    samples = make_samples(1, 16, 24)
    for s in samples:
        s.gt_sem_seg.data[:] = 1
    big = torch.full((1, 1, 16, 24), 5.)
    losses = head.loss_by_feat((big, big, big[..., :4, :6]), samples)
    assert losses['acc_seg'] == 100.
    losses = head.loss_by_feat((-big, -big, -big[..., :4, :6]), samples)
    assert losses['acc_seg'] == 0.


@pytest.mark.parametrize('align_corners', [True, False])
def test_final_upsampling_matches_the_reference_interpolate(align_corners):
    """``align_corners`` is the reference's final ``F.interpolate(
    scale_factor=4, mode='bilinear', align_corners=...)``: True in the
    current code, False (the default argument) in the 2021 code that
    trained the released ISIC checkpoint."""
    head = MODELS.build(head_cfg(align_corners=align_corners)).eval()
    inputs = feats(batch=1)
    metas = [dict(img_shape=(64, 96), pad_shape=(64, 96))]
    with torch.no_grad():
        low = head(inputs)
        out = head.predict(inputs, metas, dict())
    if align_corners:
        ref = F.interpolate(
            low, scale_factor=4, mode='bilinear', align_corners=True)
    else:  # the 2021 code: no align_corners argument
        ref = F.interpolate(low, scale_factor=4, mode='bilinear')
    torch.testing.assert_close(out, ref)
    other = F.interpolate(
        low, scale_factor=4, mode='bilinear', align_corners=not align_corners)
    assert not torch.allclose(out, other, atol=1e-4)

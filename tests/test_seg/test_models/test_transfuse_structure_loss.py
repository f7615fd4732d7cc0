"""StructureLoss against a direct implementation of PraNet's formula."""
import pytest
import torch
import torch.nn.functional as F

from mmseg.registry import MODELS


def direct_structure_loss(pred, mask):
    """PraNet's structure loss with the documented weighted BCE, per image.

    ``pred``/``mask``: ``(N, 1, H, W)``; returns ``(N, )``.
    """
    n = pred.shape[0]
    out = []
    for i in range(n):
        p_logit, m = pred[i, 0], mask[i, 0]
        pooled = F.avg_pool2d(m[None, None], 31, stride=1, padding=15)[0, 0]
        w = 1 + 5 * (pooled - m).abs()
        bce = -(
            m * torch.log(torch.sigmoid(p_logit)) +
            (1 - m) * torch.log(1 - torch.sigmoid(p_logit)))
        wbce = (w * bce).sum() / w.sum()
        p = torch.sigmoid(p_logit)
        inter = (w * p * m).sum()
        union = (w * (p + m)).sum()
        wiou = 1 - (inter + 1) / (union - inter + 1)
        out.append(wbce + wiou)
    return torch.stack(out)


def test_binary_matches_formula():
    torch.manual_seed(0)
    pred = torch.randn(3, 1, 40, 48, dtype=torch.float64)
    target = (torch.rand(3, 40, 48) > 0.6).long()
    loss = MODELS.build(dict(type='StructureLoss', loss_weight=0.3))
    expected = 0.3 * direct_structure_loss(pred, target[:, None].double())
    torch.testing.assert_close(loss(pred, target), expected.mean())


def test_default_is_the_transfuse_reference_weighted_bce():
    """TransFuse's train_isic.py: BCE with reduction='none', then weighted.

    The formula is written out here as the reference script does it (batch
    of images, sum over pixels), independent of the package's code.
    """
    torch.manual_seed(1)
    pred = torch.randn(2, 1, 32, 32, dtype=torch.float64)
    target = (torch.rand(2, 32, 32) > 0.5).long()
    mask = target[:, None].double()
    weit = 1 + 5 * torch.abs(
        F.avg_pool2d(mask, kernel_size=31, stride=1, padding=15) - mask)
    wbce = F.binary_cross_entropy_with_logits(pred, mask, reduction='none')
    wbce = (weit * wbce).sum(dim=(2, 3)) / weit.sum(dim=(2, 3))
    p = torch.sigmoid(pred)
    inter = (p * mask * weit).sum(dim=(2, 3))
    union = ((p + mask) * weit).sum(dim=(2, 3))
    wiou = 1 - (inter + 1) / (union - inter + 1)
    reference = (wbce + wiou).mean()
    loss = MODELS.build(dict(type='StructureLoss'))
    torch.testing.assert_close(loss(pred, target), reference)
    # weighted_bce=False is PraNet's quirk (plain mean BCE), not TransFuse's
    pranet_bce = F.binary_cross_entropy_with_logits(pred, mask)
    pranet = (pranet_bce + wiou).mean()
    unweighted = MODELS.build(dict(type='StructureLoss', weighted_bce=False))
    torch.testing.assert_close(unweighted(pred, target), pranet)
    assert not torch.allclose(pranet, reference)


def test_soft_target_is_mask_over_255_without_ignore():
    """The reference trains on gt / 255 (soft) and ignores nothing."""
    torch.manual_seed(3)
    pred = torch.randn(2, 1, 24, 24, dtype=torch.float64)
    soft = torch.randint(0, 256, (2, 24, 24))
    soft[:, :, :4] = 255  # full foreground, NOT ignored in soft mode
    soft[:, :4] = 0  # padding counted as background
    expected = direct_structure_loss(pred, soft[:, None].double() / 255.)
    loss = MODELS.build(dict(type='StructureLoss', soft_target=True))
    torch.testing.assert_close(
        loss(pred, soft, ignore_index=255), expected.mean())
    with pytest.raises(ValueError, match='soft_target=True needs one output'):
        loss(torch.randn(2, 2, 24, 24), soft)


def test_multiclass_is_mean_of_one_vs_rest():
    torch.manual_seed(2)
    pred = torch.randn(2, 3, 36, 36, dtype=torch.float64)
    target = torch.randint(0, 3, (2, 36, 36))
    loss = MODELS.build(dict(type='StructureLoss'))(pred, target)
    per_class = [
        direct_structure_loss(pred[:, c:c + 1],
                              (target == c)[:, None].double()).mean()
        for c in range(3)
    ]
    torch.testing.assert_close(loss, torch.stack(per_class).mean())


def test_ignore_index_pixels_do_not_matter():
    torch.manual_seed(3)
    pred = torch.randn(2, 1, 32, 32, dtype=torch.float64)
    target = (torch.rand(2, 32, 32) > 0.5).long()
    target[:, :4] = 255
    loss = MODELS.build(dict(type='StructureLoss'))
    base = loss(pred, target)
    changed = pred.clone()
    changed[:, :, :4] = 100.  # predictions on ignored pixels are irrelevant
    torch.testing.assert_close(loss(changed, target), base)
    # without ignore the same change must matter
    assert not torch.allclose(
        loss(changed, target.clamp(max=1), ignore_index=None),
        loss(pred, target.clamp(max=1), ignore_index=None))


def test_perfect_prediction_is_low_and_gradients_flow():
    target = torch.zeros(1, 32, 32, dtype=torch.long)
    target[:, 8:24, 8:24] = 1
    good = (target[:, None].float() * 2 - 1) * 20
    bad = -good
    loss = MODELS.build(dict(type='StructureLoss'))
    assert loss(good, target) < 0.01 < loss(bad, target)
    pred = torch.zeros(1, 1, 32, 32, requires_grad=True)
    loss(pred, target).backward()
    assert pred.grad.abs().sum() > 0


def test_loss_name_and_shape_errors():
    with pytest.raises(ValueError, match="start with 'loss_'"):
        MODELS.build(dict(type='StructureLoss', loss_name='structure'))
    loss = MODELS.build(dict(type='StructureLoss', loss_name='loss_x'))
    assert loss.loss_name == 'loss_x'
    with pytest.raises(ValueError, match='does not match pred'):
        loss(torch.zeros(1, 1, 8, 8), torch.zeros(1, 4, 4, dtype=torch.long))

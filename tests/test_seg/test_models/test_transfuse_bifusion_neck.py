"""BiFusionNeck: shapes, ablation switches, and the reference's formula."""
import pytest
import torch

from mmseg.registry import MODELS


def inputs(batch=2):
    sizes = [(4, 6), (8, 12), (16, 24)]
    cnn = [torch.randn(batch, c, *s) for c, s in zip((32, 16, 8), sizes)]
    trans = [torch.randn(batch, c, *s) for c, s in zip((48, 16, 8), sizes)]
    return cnn + trans


def build(**kwargs):
    cfg = dict(
        type='BiFusionNeck',
        cnn_channels=(32, 16, 8),
        trans_channels=(48, 16, 8),
        out_channels=(32, 16, 8),
        reductions=(4, 2, 1))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def test_shapes_and_passthrough():
    neck = build().eval()
    feats = inputs()
    outs = neck(feats)
    assert [tuple(o.shape) for o in outs] == [(2, 32, 4, 6), (2, 16, 8, 12),
                                              (2, 8, 16, 24), (2, 8, 16, 24)]
    assert outs[3] is feats[5]  # transformer 1/4 map for the branch head
    # SE reduction ratios r = 4, 2, 1 (48 -> 12 is rounded up to 16 by
    # mmseg's SELayer's make_divisible(., 8))
    assert neck.fusions[0].channel_attn.conv1.conv.out_channels == 16
    assert neck.fusions[1].channel_attn.conv1.conv.out_channels == 8
    assert neck.fusions[2].channel_attn.conv1.conv.out_channels == 8
    with pytest.raises(ValueError, match='expects 6 maps'):
        neck(feats[:3])
    with pytest.raises(ValueError, match='one entry per scale'):
        build(reductions=(4, 2))


def test_block_matches_reference_formula():
    neck = build().eval()
    block = neck.fusions[1]
    g, t = torch.randn(2, 16, 8, 8), torch.randn(2, 16, 8, 8)
    # direct implementation of the reference BiFusion_block.forward
    bp = block.product_conv(block.cnn_proj(g) * block.trans_proj(t))
    pooled = torch.cat([g.max(1, keepdim=True)[0], g.mean(1, keepdim=True)], 1)
    g_hat = torch.sigmoid(block.spatial_attn.conv(pooled)) * g
    se = block.channel_attn
    x = torch.relu(se.conv1.conv(t.mean((2, 3), keepdim=True)))
    t_hat = torch.sigmoid(se.conv2.conv(x)) * t
    expected = block.residual(torch.cat([g_hat, t_hat, bp], 1))
    torch.testing.assert_close(block(g, t), expected)


@pytest.mark.parametrize('spatial,channel,product,in_ch', [
    (False, False, False, 16 + 16),
    (True, False, False, 16 + 16),
    (True, True, False, 16 + 16),
    (True, True, True, 16 + 16 + 16),
])
def test_table6_switches(spatial, channel, product, in_ch):
    neck = build(
        with_spatial_attn=spatial,
        with_channel_attn=channel,
        with_product=product).eval()
    block = neck.fusions[1]
    assert (block.spatial_attn is not None) == spatial
    assert (block.channel_attn is not None) == channel
    assert hasattr(block, 'product_conv') == product
    assert block.residual.bn1.num_features == in_ch
    outs = neck(inputs())
    assert outs[1].shape == (2, 16, 8, 12)
    if not (spatial or channel or product):
        g, t = torch.randn(1, 16, 8, 8), torch.randn(1, 16, 8, 8)
        torch.testing.assert_close(
            block(g, t), block.residual(torch.cat([g, t], 1)))

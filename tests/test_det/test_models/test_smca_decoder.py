"""SMCA co-attention: where the prior puts the attention, and key padding."""
import copy
import math

import pytest
import torch

from mmplugin_transfuse.det.models.layers import SMCATransformerDecoder
from .conftest import load_r50_cfg

NUM_HEADS = 8


def build_decoder(num_layers: int = 2,
                  scale_mode: str = 'Indep',
                  **layer_cfg) -> SMCATransformerDecoder:
    cfg = copy.deepcopy(load_r50_cfg().model.decoder)
    cfg.num_layers = num_layers
    cfg.layer_cfg.scale_mode = scale_mode
    cfg.layer_cfg.update(layer_cfg)
    # the weights are read from nn.MultiheadAttention (unfused path); the
    # fused path equals it (test_smca_fused_attention.py)
    cfg.layer_cfg.fused_attention = False
    torch.manual_seed(0)
    decoder = SMCATransformerDecoder(**cfg).eval()
    return decoder


def zero_content(decoder, centers_norm, scales_xy):
    """No content term: q/k projections 0, so logits = log G only.

    The first layer's centre MLP outputs the fixed ``logit(centers_norm)``
    (one (x, y) for all queries), offsets are 0 and scales are constant.
    """
    dim = decoder.embed_dims
    with torch.no_grad():
        for layer in decoder.layers:
            attn = layer.cross_attn.attn
            attn.in_proj_weight[:2 * dim] = 0
            attn.in_proj_bias[:2 * dim] = 0
            prior = layer.prior
            prior.offset_fc.weight.zero_()
            prior.offset_fc.bias.zero_()
            if prior.scale_fc is not None:
                prior.scale_fc.weight.zero_()
                prior.scale_fc.bias.copy_(
                    torch.tensor(scales_xy).repeat(NUM_HEADS)
                    [:prior.scale_fc.out_features])
        last = decoder.layers[0].center_mlp.layers[-1]
        last.weight.zero_()
        last.bias.copy_(torch.logit(torch.tensor(centers_norm)))


def capture_attention(decoder):
    """Per-head co-attention weights of every layer, (bs, nh, nq, keys)."""
    weights, handles = [], []
    for layer in decoder.layers:
        attn = layer.cross_attn.attn

        def pre(mod, args, kwargs):
            kwargs.update(need_weights=True, average_attn_weights=False)
            return args, kwargs

        def post(mod, args, kwargs, out):
            weights.append(out[1].detach())

        handles += [
            attn.register_forward_pre_hook(pre, with_kwargs=True),
            attn.register_forward_hook(post, with_kwargs=True)
        ]
    return weights, handles


def run(decoder, bs, feat_h, feat_w, valid_wh, key_padding_mask=None,
        nq=4):
    dim = decoder.embed_dims
    memory = torch.randn(bs, feat_h * feat_w, dim)
    weights, handles = capture_attention(decoder)
    with torch.no_grad():
        _, center_logits = decoder(
            query=torch.zeros(bs, nq, dim),
            key=memory,
            value=memory,
            query_pos=torch.randn(bs, nq, dim),
            key_pos=torch.randn(bs, feat_h * feat_w, dim),
            key_padding_mask=key_padding_mask,
            valid_wh=valid_wh,
            feat_hw=(feat_h, feat_w))
    for h in handles:
        h.remove()
    return weights, center_logits


@pytest.mark.parametrize('scale_mode,scales_xy', [('Indep', (1.0, 0.5)),
                                                  ('Single', (0.7, 0.7)),
                                                  ('Fixed', (1.0, 1.0))])
def test_attention_peaks_at_centre_and_follows_formula(scale_mode, scales_xy):
    feat_h, feat_w = 5, 7
    # image 224x160 at stride 32 -> 7x5 cells; centre (3/7, 2/5) -> cell (3, 2)
    valid_wh = torch.tensor([[7.0, 5.0]])
    decoder = build_decoder(scale_mode=scale_mode)
    zero_content(decoder, (3 / 7, 2 / 5), scales_xy)
    weights, center_logits = run(decoder, 1, feat_h, feat_w, valid_wh)
    torch.testing.assert_close(center_logits.sigmoid()[0, 0],
                               torch.tensor([3 / 7, 2 / 5]))
    sx, sy = scales_xy
    ys, xs = torch.meshgrid(
        torch.arange(feat_h).float(), torch.arange(feat_w).float(),
        indexing='ij')
    # formula in feature-map cells around the centre (3, 2), beta = 8
    log_g = (-(sx**2 * (xs - 3)**2 + sy**2 * (ys - 2)**2) / 8).flatten()
    expected = torch.softmax(log_g, dim=0)
    for w in weights:  # every layer, every head, every query
        assert w.shape == (1, NUM_HEADS, 4, feat_h * feat_w)
        assert torch.all(w.argmax(-1) == 2 * feat_w + 3)
        torch.testing.assert_close(
            w, expected.expand_as(w), rtol=1e-4, atol=1e-6)
    # fall-off: one cell right costs sx^2/8 in log space, one down sy^2/8
    w = weights[0][0, 0, 0].view(feat_h, feat_w)
    assert math.isclose(
        float(torch.log(w[2, 3] / w[2, 4])), sx**2 / 8, rel_tol=1e-4)
    assert math.isclose(
        float(torch.log(w[2, 3] / w[3, 3])), sy**2 / 8, rel_tol=1e-4)


def test_prior_unit_scales_offsets_and_width():
    """prior_unit u: offsets are u cells per predicted unit and beta acts
    on distances in units of u cells, log G = -d^2 / (beta * u^2)."""
    feat_h, feat_w = 5, 7
    decoder = build_decoder(num_layers=1, prior_unit=0.5)
    zero_content(decoder, (3 / 7, 2 / 5), (1.0, 1.0))
    with torch.no_grad():  # every head offset by (2, 0) units = (1, 0) cells
        decoder.layers[0].prior.offset_fc.bias.copy_(
            torch.tensor([2.0, 0.0]).repeat(NUM_HEADS))
    weights, _ = run(decoder, 1, feat_h, feat_w, torch.tensor([[7.0, 5.0]]))
    ys, xs = torch.meshgrid(
        torch.arange(feat_h).float(), torch.arange(feat_w).float(),
        indexing='ij')
    # centre (3, 2) cells + (1, 0) -> (4, 2); beta 8 * 0.5^2 = 2
    log_g = (-((xs - 4)**2 + (ys - 2)**2) / 2).flatten()
    (w, ) = weights
    assert torch.all(w.argmax(-1) == 2 * feat_w + 4)
    torch.testing.assert_close(
        w, torch.softmax(log_g, 0).expand_as(w), rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match='prior_unit'):
        build_decoder(num_layers=1, prior_unit=0)


def test_key_padding_stays_masked_and_centre_uses_own_size():
    feat_h, feat_w = 4, 6
    decoder = build_decoder()
    zero_content(decoder, (0.5, 0.5), (1.0, 1.0))
    # image 0 fills the batch (6x4 cells); image 1 is 3x2 cells, rest padded
    padding = torch.zeros(2, feat_h, feat_w, dtype=torch.bool)
    padding[1, 2:, :] = True
    padding[1, :, 3:] = True
    valid_wh = torch.tensor([[6.0, 4.0], [3.0, 2.0]])
    weights, _ = run(decoder, 2, feat_h, feat_w, valid_wh,
                     padding.view(2, -1))
    for w in weights:
        # padded keys get exactly zero attention, valid ones sum to 1
        assert torch.all(w[1][..., padding[1].flatten()] == 0)
        assert torch.all(w[1][..., ~padding[1].flatten()] > 0)
        torch.testing.assert_close(w.sum(-1), torch.ones_like(w.sum(-1)))
    # centre 0.5 of each image's own size: (3, 2) and (1.5, 1) cells
    peak0 = weights[0][0, 0, 0].view(feat_h, feat_w)
    assert peak0.argmax() == 2 * feat_w + 3
    peak1 = weights[0][1, 0, 0].view(feat_h, feat_w)
    # (1.5, 1) is equidistant from x=1 and x=2 in row 1
    torch.testing.assert_close(peak1[1, 1], peak1[1, 2])
    assert peak1.max() == peak1[1, 1]


def test_predict_center_only_in_first_layer():
    decoder = build_decoder(num_layers=3)
    assert hasattr(decoder.layers[0], 'center_mlp')
    assert not any(
        hasattr(layer, 'center_mlp') for layer in decoder.layers[1:])
    with pytest.raises(RuntimeError, match='predict_center'):
        decoder.layers[1].predict_centers(torch.zeros(1, 1, 256))

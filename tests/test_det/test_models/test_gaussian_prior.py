"""The SMCA prior equals the spec's formula, for every scale mode."""
import copy
import math

import pytest
import torch

from mmplugin_transfuse.det.models.layers import (SMCATransformerDecoderLayer,
                                                  gaussian_log_prior)
from .conftest import load_r50_cfg, scalar_log_prior


def build_layer(scale_mode: str, head_shared: bool,
                predict_center: bool = True) -> SMCATransformerDecoderLayer:
    layer_cfg = copy.deepcopy(load_r50_cfg().model.decoder.layer_cfg)
    layer_cfg.update(scale_mode=scale_mode, head_shared_prior=head_shared)
    layer = SMCATransformerDecoderLayer(
        **layer_cfg, predict_center=predict_center)
    # random (non-initial) predictor weights so that every term matters
    torch.manual_seed(0)
    for p in layer.parameters():
        torch.nn.init.normal_(p, std=0.05)
    return layer.eval()


@pytest.mark.parametrize('scale_mode', ['Fixed', 'Single', 'Indep', 'Cov'])
@pytest.mark.parametrize('head_shared', [False, True])
def test_prior_matches_formula(scale_mode, head_shared):
    layer = build_layer(scale_mode, head_shared)
    bs, nq, feat_h, feat_w = 2, 3, 4, 5
    query = torch.randn(bs, nq, 256)
    query_pos = torch.randn(bs, nq, 256)
    centers = torch.rand(bs, nq, 2) * torch.tensor([feat_w, feat_h])
    with torch.no_grad():
        prior_query = layer.prior_input(query, query_pos)
        got = layer.prior(prior_query, centers, (feat_h, feat_w))
        want = scalar_log_prior(layer.prior, prior_query, centers,
                                (feat_h, feat_w))
    assert got.shape == (bs * 8, nq, feat_h * feat_w)
    torch.testing.assert_close(got.double(), want, rtol=1e-4, atol=1e-4)
    if head_shared:  # every head of one image sees the same prior
        per_head = got.view(bs, 8, nq, -1)
        assert torch.equal(per_head, per_head[:, :1].expand_as(per_head))
    else:
        assert not torch.allclose(got[0], got[1])


def test_predictor_shapes_and_init():
    expected = {('Fixed', False): None, ('Single', False): 8,
                ('Indep', False): 16, ('Single', True): 1,
                ('Indep', True): 2, ('Cov', False): 24, ('Cov', True): 3}
    for (mode, shared), n_scale in expected.items():
        layer_cfg = copy.deepcopy(load_r50_cfg().model.decoder.layer_cfg)
        layer_cfg.update(scale_mode=mode, head_shared_prior=shared)
        layer = SMCATransformerDecoderLayer(**layer_cfg)
        prior = layer.prior
        assert prior.offset_fc.out_features == (2 if shared else 16)
        assert not hasattr(layer, 'center_mlp')
        if n_scale is None:
            assert prior.scale_fc is None
        else:
            assert prior.scale_fc.out_features == n_scale
            # reference init: weight 0, bias 1 -> every scale starts at 1
            assert torch.all(prior.scale_fc.weight == 0)
            assert torch.all(prior.scale_fc.bias == 1)


def test_key_order():
    # key k = y * w + x at cell (x, y): with scale 1 and beta 1 the prior of
    # a centre at (0, 0) is minus the squared distance to each key
    got = gaussian_log_prior(torch.zeros(1, 1, 1, 2), (2, 3), beta=1.0)
    xy = [(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1)]
    assert got.flatten().tolist() == [-(x * x + y * y) for x, y in xy]


def test_beta_and_scale_multiply_distance():
    points = torch.zeros(1, 1, 1, 2)
    scales = torch.full((1, 1, 1, 2), 2.0)
    got = gaussian_log_prior(points, (1, 4), scales, beta=8.0)
    # scale multiplies (inverse bandwidth): -(2^2 * x^2) / 8
    assert got.flatten().tolist() == [0.0, -0.5, -2.0, -4.5]
    got = gaussian_log_prior(points, (1, 4), None, beta=2.0)
    assert got.flatten().tolist() == [0.0, -0.5, -2.0, -4.5]


def test_cov_adds_weighted_product_of_squared_distances():
    # reference type4 at hand-picked values: centre (1, 1), s = (1, 2, 3)
    # keys (x, y): (0,0) (1,0) (2,0) (0,1) (1,1) (2,1)
    points = torch.ones(1, 1, 1, 2)
    scales = torch.tensor([1.0, 2.0, 3.0]).view(1, 1, 1, 3)
    got = gaussian_log_prior(points, (2, 3), scales, beta=1.0).flatten()
    # dist = 1 dx^2 + 4 dy^2 + 9 dx^2 dy^2 with (dx, dy) per key
    want = [-(1 + 4 + 9), -(0 + 4 + 0), -(1 + 4 + 9), -1.0, 0.0, -1.0]
    assert got.tolist() == want


def test_fp16_prior_is_finite():
    points = torch.full((1, 2, 8, 2), 1e4)  # absurdly far centres
    scales = torch.full((1, 2, 8, 2), 50.0)
    log_g = gaussian_log_prior(points, (3, 3), scales, dtype=torch.float16)
    assert log_g.dtype == torch.float16
    assert torch.isfinite(log_g).all()
    # each axis term is clamped at a quarter of the fp16 minimum
    assert torch.all(log_g == torch.tensor(
        torch.finfo(torch.float16).min / 2, dtype=torch.float16))
    # float32 overflow (Cov's product term) is clamped too
    log_g = gaussian_log_prior(
        torch.full((1, 1, 1, 2), 1e20), (2, 2), torch.full((1, 1, 1, 3), 1e10))
    assert torch.all(log_g == torch.finfo(torch.float32).min / 2)
    # an fp16 content logit added to the clamped prior does not overflow
    content = torch.tensor(-1e3, dtype=torch.float16)
    assert torch.isfinite(log_g + content).all()


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match='scale_mode'):
        SMCATransformerDecoderLayer(scale_mode='indep')
    with pytest.raises(ValueError, match='beta'):
        SMCATransformerDecoderLayer(beta=0)
    with pytest.raises(ValueError, match='points'):
        gaussian_log_prior(torch.zeros(2, 2), (2, 2))
    with pytest.raises(ValueError, match='feat_hw'):
        gaussian_log_prior(torch.zeros(1, 1, 1, 2), (0, 2))
    with pytest.raises(ValueError, match='scales'):
        gaussian_log_prior(
            torch.zeros(1, 1, 1, 2), (2, 2), torch.ones(1, 1, 1, 4))
    assert math.isclose(
        build_layer('Indep', False).beta, 8.0), 'beta defaults to 8'

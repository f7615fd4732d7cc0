"""Fused (SDPA) attention in single-scale SMCA: same keys, same outputs and
gradients as mmcv's MultiheadAttention path, fp16/bf16-safe."""
import pytest
import torch
from mmcv.cnn.bricks.transformer import MultiheadAttention
from mmdet.registry import MODELS

from mmplugin_transfuse.det.models.layers import SDPAMultiheadAttention
from .test_smca_detr import make_samples, tiny_cfg


def build(fused: bool, dropout: float = 0.1):
    cfg = tiny_cfg()
    cfg.decoder.num_layers = 2  # the prior of a second layer too
    for part in (cfg.encoder, cfg.decoder):
        part.layer_cfg.fused_attention = fused
        for key in ('self_attn_cfg', 'cross_attn_cfg'):
            if key in part.layer_cfg:
                part.layer_cfg[key].dropout = dropout
        part.layer_cfg.ffn_cfg.ffn_drop = dropout
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


@pytest.fixture(scope='module')
def pair():
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    fused, plain = build(True, dropout=0.), build(False, dropout=0.)
    # checkpoint keys unchanged: the unfused model loads the fused one's
    # state dict strictly
    plain.load_state_dict(fused.state_dict(), strict=True)
    return fused, plain


def batch():
    torch.manual_seed(1)
    # the second image is padded: padded keys must be masked in both paths
    return torch.randn(2, 3, 64, 96), make_samples([True, True])


def test_attention_modules_follow_the_switch(pair):
    fused, plain = pair
    for model, cls in ((fused, SDPAMultiheadAttention),
                       (plain, MultiheadAttention)):
        assert type(model.encoder.layers[0].self_attn) is cls
        for layer in model.decoder.layers:
            assert type(layer.self_attn) is cls
            assert type(layer.cross_attn) is cls
    assert 'decoder.layers.1.cross_attn.attn.in_proj_weight' in \
        fused.state_dict()
    assert 'decoder.layers.1.cross_attn.attn.out_proj.weight' in \
        fused.state_dict()


def test_fused_outputs_equal_unfused(pair):
    fused, plain = pair
    inputs, samples = batch()
    with torch.no_grad():
        out_f = fused.eval()._forward(inputs, samples)
        out_p = plain.eval()._forward(inputs, samples)
    for a, b in zip(out_f, out_p):
        # the class logits and boxes of every decoder layer
        scale = b.abs().max()
        assert (a - b).abs().max() <= 1e-5 * scale


def test_fused_gradients_equal_unfused(pair):
    fused, plain = pair
    inputs, samples = batch()
    grads = []
    for model in (fused, plain):
        model.train().zero_grad()
        losses = model.loss(inputs, samples)
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        grads.append({
            n: p.grad.clone()
            for n, p in model.named_parameters() if p.grad is not None
        })
    assert grads[0].keys() == grads[1].keys()
    # the co-attention's input projection and the prior's scale predictor
    # sit on both sides of log G: equal gradients there mean the prior enters
    # the fused kernel exactly as it enters the unfused one
    for name in ('decoder.layers.1.cross_attn.attn.in_proj_weight',
                 'decoder.layers.1.prior.scale_fc.weight',
                 'encoder.layers.0.self_attn.attn.in_proj_weight'):
        g_f, g_p = grads[0][name], grads[1][name]
        assert g_p.abs().max() > 0
        assert (g_f - g_p).abs().max() <= 1e-4 * g_p.abs().max(), name


def test_bf16_autocast_stays_finite_and_close(pair):
    fused, _ = pair
    inputs, samples = batch()
    with torch.no_grad():
        ref = fused.eval()._forward(inputs, samples)[0]
        with torch.autocast('cpu', dtype=torch.bfloat16):
            low = fused._forward(inputs, samples)[0]
    assert torch.isfinite(low).all()
    # bf16 keeps ~3 significant digits; the logits stay near the fp32 ones
    assert (low.float() - ref).abs().max() <= 0.1 * ref.abs().max()


def test_switch_must_be_a_bool():
    cfg = tiny_cfg()
    cfg.decoder.layer_cfg.fused_attention = 'yes'
    with pytest.raises(TypeError, match='fused_attention'):
        MODELS.build(cfg)
    cfg = tiny_cfg()
    cfg.encoder.layer_cfg.fused_attention = 1
    with pytest.raises(TypeError, match='fused_attention'):
        MODELS.build(cfg)

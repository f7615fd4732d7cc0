"""``--amp`` on CPU: bfloat16 (and float16) autocast through the whole
training step of TransFuse and SMCA-DETR (single- and multi-scale): finite
losses and gradients, losses near float32's on the same batch and weights.

The tolerance: bfloat16 keeps 8 significant bits (relative rounding
2^-9 ~ 0.2 % per operation); through a few layers and the losses' sums the
losses stay within 5 % (relative) of float32's. float16 has 11 bits.
"""
import copy

import pytest
import torch

from mmplugin_transfuse.engine.optimizers.cpu_amp_optim_wrapper import \
    CPUAmpOptimWrapper

from .tiny_models import (SMCA, SMCA_MS, TINY_SMCA, TINY_TRANSFUSE,
                          TRANSFUSE, raw_batch, tiny)

TOL = {torch.bfloat16: 5e-2, torch.float16: 1e-2}
MODELS = dict(
    transfuse_s=(TRANSFUSE, TINY_TRANSFUSE, (32, 32)),
    # TransFuse-L's branches (ResNet-50, DeiT-B-style width) at tiny depth
    transfuse_l=(TRANSFUSE, dict(
        TINY_TRANSFUSE, **{
            'model.backbone.cnn.depth': 50,
            'model.neck.cnn_channels': (1024, 512, 256),
        }), (32, 32)),
    smca=(SMCA, TINY_SMCA, (64, 64)),
    # the config's 'intra', 'multi' encoder
    smca_ms=(SMCA_MS, {k: v for k, v in TINY_SMCA.items()
                       if k != 'model.encoder.num_layers'}, (64, 64)),
)


@pytest.fixture(scope='module', params=list(MODELS))
def built(request):
    config, overrides, size = MODELS[request.param]
    cfg, model, _ = tiny(config, overrides)
    # two images of different sizes: padding (the -inf keys of SMCA's
    # attention, ignored pixels) is part of what low precision must survive
    h, w = size
    data = model.data_preprocessor(
        raw_batch(cfg, [(h, w), (h - 8, w - 16)]), True)
    return cfg, model, data


def _losses(model, data, dtype=None):
    model.zero_grad()
    with torch.autocast('cpu', dtype=dtype or torch.float32,
                        enabled=dtype is not None):
        losses = model(**data, mode='loss')
    loss, _ = model.parse_losses(losses)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    return {k: float(v) for k, v in losses.items()
            if k.startswith('loss') or '.loss' in k}, grads


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_autocast_losses_near_fp32_and_finite(built, dtype):
    _, model, data = built
    ref, _ = _losses(model, data)
    low, grads = _losses(model, data, dtype)
    assert set(low) == set(ref)
    for key in ref:
        assert low[key] == pytest.approx(ref[key], rel=TOL[dtype],
                                         abs=1e-3), key
    assert grads and all(torch.isfinite(g).all() for g in grads)


def test_cpu_amp_optim_wrapper_trains(built):
    cfg, model, _ = built
    model = copy.deepcopy(model)
    wrapper = CPUAmpOptimWrapper(
        optimizer=torch.optim.AdamW(model.parameters(), lr=1e-4))
    before = [p.detach().clone() for p in model.parameters()]
    h, w = (32, 32) if cfg.default_scope == 'mmseg' else (64, 64)
    losses = model.train_step(raw_batch(cfg, [(h, w), (h, w)]), wrapper)
    assert all(torch.isfinite(v) for v in losses.values())
    after = list(model.parameters())
    assert all(torch.isfinite(p).all() for p in after)
    assert any(not torch.equal(a, b) for a, b in zip(before, after))
    with pytest.raises(ValueError, match='expected one of'):
        CPUAmpOptimWrapper(dtype='float64', optimizer=wrapper.optimizer)

"""`with_cp` (torch.utils.checkpoint) leaves SMCADETR's maths unchanged."""
import pytest
import torch
from mmdet.registry import MODELS

from mmplugin_transfuse.det.models.layers import (SMCATransformerDecoder,
                                                  SMCATransformerEncoder)
from .conftest import load_r50_cfg
from .test_smca_detr import BATCH_HW, make_samples


def loss_and_grads(model, x):
    """Summed loss and every parameter's gradient; dropout stays on, so the
    RNG is re-seeded to give both runs the same masks."""
    model.zero_grad()
    torch.manual_seed(1)
    losses = model.loss(x, make_samples([True, False]))
    total = sum(losses.values())
    total.backward()
    grads = {
        n: p.grad.clone()
        for n, p in model.named_parameters() if p.grad is not None
    }
    return losses, grads


def count_calls(forward, calls):

    def wrapped(*args, **kwargs):
        calls.append(1)
        return forward(*args, **kwargs)

    return wrapped


def test_with_cp_same_outputs_and_grads():
    cfg = load_r50_cfg().model
    # checkpointing is the transformer's: a small backbone and 2+2 layers
    cfg.backbone.depth = 18
    cfg.neck.in_channels = [512]
    cfg.num_queries = 20
    cfg.encoder.num_layers = 2
    cfg.decoder.num_layers = 2
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    assert isinstance(model.encoder, SMCATransformerEncoder)
    assert model.encoder.with_cp is False and model.decoder.with_cp is False
    model.train()
    x = torch.randn(2, 3, *BATCH_HW)
    ref_losses, ref_grads = loss_and_grads(model, x)

    model.encoder.with_cp = model.decoder.with_cp = True
    # checkpointing recomputes each layer in backward: count the forwards
    # (module hooks are muted during the recomputation, so wrap `forward`)
    calls = []
    for layer in (model.encoder.layers[0], model.decoder.layers[1]):
        layer.forward = count_calls(layer.forward, calls)
    cp_losses, cp_grads = loss_and_grads(model, x)
    assert len(calls) == 4, 'layers were not recomputed in backward'

    assert ref_losses.keys() == cp_losses.keys()
    for name in ref_losses:
        torch.testing.assert_close(cp_losses[name], ref_losses[name])
    assert ref_grads.keys() == cp_grads.keys()
    assert len(ref_grads) > 100
    for name in ref_grads:
        torch.testing.assert_close(
            cp_grads[name], ref_grads[name], msg=name)

    # no checkpointing (one forward each) in eval mode
    calls.clear()
    model.eval()
    with torch.no_grad():
        model.predict(x, make_samples([True, False]))
    assert len(calls) == 2


@pytest.mark.parametrize('cls,field', [(SMCATransformerEncoder, 'encoder'),
                                       (SMCATransformerDecoder, 'decoder')])
def test_with_cp_must_be_bool(cls, field):
    cfg = load_r50_cfg().model[field]
    with pytest.raises(TypeError, match=f'`{field}.with_cp` must be a bool'):
        cls(**cfg, with_cp='yes')

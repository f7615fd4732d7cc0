"""``--compile``: the model's forward under torch.compile trains and
predicts as the eager model, without recompiling at a fixed input size.

One compiled model per family (module-scoped). The backend is
``aot_eager``: dynamo captures the same graphs, guards and recompilations
as for inductor, and AOTAutograd traces forward and backward as it does
for inductor, without inductor's C++ code generation, which takes minutes
on CI (``tools/benchmark/latency.py --compile`` runs inductor).
"""
import copy
from types import SimpleNamespace

import pytest
import torch
import torch._dynamo
from torch._dynamo.utils import counters

from mmplugin_transfuse.engine.runner.launch import (apply_compile_arg,
                                                     compile_model_forward)

from .tiny_models import (SMCA, TINY_SMCA, TINY_TRANSFUSE, TRANSFUSE,
                          raw_batch, tiny)

BACKEND = 'aot_eager'


def _graphs() -> int:
    return counters['stats']['unique_graphs']


def _recompiles() -> int:
    return sum(counters['recompiles'].values())


def _floats(losses):
    return {k: float(v) for k, v in losses.items()}


@pytest.fixture(scope='module', params=['seg', 'det'])
def trained(request):
    """Eager and compiled runs of 3 training steps from the same weights on
    the same batch."""
    config, overrides, size = dict(
        seg=(TRANSFUSE, TINY_TRANSFUSE, (32, 32)),
        det=(SMCA, TINY_SMCA, (64, 64)))[request.param]
    cfg, model, optim = tiny(config, overrides)
    state = copy.deepcopy(model.state_dict())
    optim_state = copy.deepcopy(optim.state_dict())
    data = raw_batch(cfg, [size, size])
    eager = [_floats(model.train_step(data, optim)) for _ in range(3)]
    model.load_state_dict(state)
    optim.load_state_dict(optim_state)

    torch._dynamo.reset()
    counters.clear()
    cfg.compile = dict(backend=BACKEND)  # mmengine's field: the options
    apply_compile_arg(cfg, True)
    assert cfg.compile is None  # mmengine would compile train_step
    compile_model_forward(SimpleNamespace(cfg=cfg, model=model))
    compiled, graphs, recompiles = [], [], []
    # train_step: the data pre-processor, the compiled forward, the backward
    # and the optimizer step, as the runner's training loop calls it
    for _ in range(3):
        compiled.append(_floats(model.train_step(data, optim)))
        graphs.append(_graphs())
        recompiles.append(_recompiles())
    yield dict(eager=eager, compiled=compiled, graphs=graphs,
               recompiles=recompiles)
    torch._dynamo.reset()
    counters.clear()


def test_compiled_losses_equal_eager(trained):
    for eager, compiled in zip(trained['eager'], trained['compiled']):
        assert set(eager) == set(compiled)
        for key in eager:
            assert compiled[key] == pytest.approx(
                eager[key], abs=1e-4, rel=1e-4), key
    # the model learned (the step is real): the loss moved
    assert trained['compiled'][2]['loss'] != trained['compiled'][0]['loss']


def test_no_recompilation_at_a_fixed_size(trained):
    assert trained['graphs'][0] > 0
    # iterations 2 and 3 run the graphs of iteration 1
    assert trained['graphs'][1:] == [trained['graphs'][0]] * 2
    assert trained['recompiles'] == [0, 0, 0]


"""Every config's model runs ``forward(mode='tensor')`` on the ``meta`` device.

A meta tensor has a shape and a dtype but no data, so the forward fails if it
makes a tensor on the CPU (``torch.tensor(...)``, ``arange`` without
``device=``; a device mismatch error) or reads a value on the host
(``.item()``, ``.tolist()``, ``if t.any():``; "Cannot copy out of meta
tensor"): what would be a host sync or a wrong-device tensor on a GPU, and
what stops ``torch.export`` / ONNX export. No GPU is needed.

Models are built under ``torch.device('meta')`` (no memory, no random init),
except ``torch.linspace``, which some constructors read on the host to lay
out drop-path rates (build-time Python numbers, not part of the forward);
whatever is built on the CPU is then moved to ``meta``. Configs whose models
differ only in numbers (widths, depths, sizes) and weights take the same code
path and are run once.
"""
import functools
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import utils as config_utils
from torch.utils._device import DeviceContext

from mmplugin_transfuse.utils.benchmark import (build_model, load_config,
                                                make_inputs, task_of)
from tests.conftest import CONFIG_ROOT

CONFIGS = sorted(
    osp.relpath(p, CONFIG_ROOT)
    for p in glob.glob(osp.join(CONFIG_ROOT, '**', '*.py'), recursive=True)
    if '_base_' not in osp.relpath(p, CONFIG_ROOT).split(osp.sep))


class _MetaBuild(DeviceContext):
    """``torch.device('meta')`` for construction, ``linspace`` on the CPU."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is torch.linspace:
            return func(*args, **(kwargs or {}))
        return super().__torch_function__(func, types, args, kwargs)


def code_path(node):
    """``node`` (a model dict) with every number set to 0 and the weights,
    initialisation and data pre-processor left out."""
    if isinstance(node, dict):
        return {k: code_path(v) for k, v in sorted(node.items())
                if k not in ('init_cfg', 'pretrained', 'data_preprocessor')}
    if isinstance(node, (list, tuple)):
        return [code_path(v) for v in node]
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        return 0
    return node


@pytest.fixture(scope='module')
def configs():
    """Every config, loaded once, without pretrained weights; mmdet's and
    mmseg's metafiles (read for every ``mmdet::`` / ``mmseg::`` base) are
    parsed once for the module."""
    original = config_utils.load
    config_utils.load = functools.lru_cache(None)(original)
    try:
        return {c: load_config(osp.join(CONFIG_ROOT, c)) for c in CONFIGS}
    finally:
        config_utils.load = original


def test_every_model_forwards_on_meta(configs):
    assert len(CONFIGS) >= 40
    seen, failures = set(), {}
    for name, cfg in configs.items():
        key = repr(code_path(cfg._cfg_dict.model.to_dict()))
        if key in seen:
            continue
        seen.add(key)
        with _MetaBuild(torch.device('meta')):
            model = build_model(cfg)
        model.to('meta')
        inputs, samples = make_inputs(cfg, 1, 64, 48)
        try:
            with torch.no_grad():
                out = model(inputs.to('meta'), samples, mode='tensor')
        except Exception as err:  # collect all, report every config
            failures[name] = f'{type(err).__name__}: {str(err)[:200]}'
            continue
        leaves = [t for t in torch.utils._pytree.tree_leaves(out)
                  if isinstance(t, torch.Tensor)]
        assert leaves and all(t.is_meta for t in leaves), name
        if task_of(cfg) == 'seg':
            # logits (1, C, h, w) or the head's tuple of them
            assert all(t.dim() == 4 and t.size(0) == 1 for t in leaves), name
    assert not failures, failures
    # the TransFuse and SMCA variants, mmdet's DETR and mmseg's baselines
    assert len(seen) >= 25, len(seen)


def test_meta_forward_catches_a_host_read():
    # the check itself: a forward that reads a value on the host fails
    layer = torch.nn.Linear(4, 4, device='meta')
    with pytest.raises(RuntimeError, match='meta'):
        with torch.no_grad():
            if layer(torch.zeros(2, 4, device='meta')).sum() > 0:
                pass

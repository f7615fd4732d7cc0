"""Shared fixtures: repository paths, tool modules and small generated data."""
import importlib.util
import os
import os.path as osp
import sys
from types import ModuleType

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG_ROOT = osp.join(REPO_ROOT, 'configs')


def pytest_configure(config) -> None:
    """Three speed rules for the whole suite.

    * A config's text is not formatted by yapf in the test process. A Runner
      prints, dumps and hands its config to the visualizer, five yapf passes
      that took half of a small in-process run (16 of 33 s of the
      convergence smoke test, 20+ s for the five-set polyp config); the text
      stays valid Python, only unformatted. Runs in fresh interpreters
      (tools/train.py, dist_train.sh) still format it as users see it.
    * Under pytest-xdist (``make test``: one worker per core), one thread
      per worker and per interpreter a test starts: N workers on N cores
      with torch's default of N threads each would run N*N threads and slow
      every test down.
    * The model-index and metafile YAMLs of mmdet and mmseg, which mmengine
      parses again for every ``mmdet::`` / ``mmseg::`` base a config names,
      are parsed once per process (mmengine only reads them).
    """
    import functools

    import mmengine.config.config as mmengine_config
    from mmengine.config import utils as config_utils
    mmengine_config.FormatCode = lambda text, **kwargs: (text, False)
    config_utils.load = functools.lru_cache(None)(config_utils.load)
    if os.environ.get('PYTEST_XDIST_WORKER'):
        os.environ['OMP_NUM_THREADS'] = '1'
        os.environ['MKL_NUM_THREADS'] = '1'
        import torch
        torch.set_num_threads(1)


def load_tool(rel_path: str) -> ModuleType:
    """Import a script under ``tools/`` (not a package) as a module."""
    path = osp.join(REPO_ROOT, 'tools', rel_path)
    name = 'tool_' + rel_path.replace('/', '_').replace('.py', '')
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='session')
def repo_root() -> str:
    return REPO_ROOT


@pytest.fixture(scope='session')
def synthetic_polyp_root(tmp_path_factory) -> str:
    """12 train + 4 val synthetic polyp images of 64x64 (Kvasir-SEG layout)."""
    out = str(tmp_path_factory.mktemp('synthetic_polyp'))
    load_tool('dataset_generators/generate_synthetic_polyp.py').generate(
        out, num_train=12, num_val=4, size=(64, 64), seed=0)
    return out


@pytest.fixture(scope='session')
def synthetic_shapes_root(tmp_path_factory) -> str:
    """8 train + 4 val synthetic shapes images of 96x96 (COCO layout)."""
    out = str(tmp_path_factory.mktemp('synthetic_shapes'))
    load_tool('dataset_generators/generate_synthetic_shapes.py').generate(
        out, num_train=8, num_val=4, size=96, seed=0)
    return out

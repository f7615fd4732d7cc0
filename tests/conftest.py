"""Shared fixtures: repository paths, tool modules and small generated data."""
import importlib.util
import os.path as osp
import sys
from types import ModuleType

import pytest
from mmengine.config import Config

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG_ROOT = osp.join(REPO_ROOT, 'configs')


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


def config_without_yapf(path: str) -> Config:
    """``Config.fromfile(path)`` whose text is not formatted by yapf.

    A Runner prints, dumps and hands its config to the visualizer: three
    yapf passes, most of the time of a small in-process run of a long config
    (20+ s for the five-set polyp config on 2 cores). The text stays valid
    Python, only unformatted. (mmengine 0.10.7's ``fromfile`` does not pass
    its ``format_python_code`` argument on for ordinary config files.)
    """
    cfg = Config.fromfile(path)
    return Config(cfg.to_dict(), cfg_text=cfg.text, filename=cfg.filename,
                  format_python_code=False)


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

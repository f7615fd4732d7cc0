"""The engine components resolve from mmseg- and mmdet-scoped configs."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import HOOKS, OPTIM_WRAPPERS, RUNNERS, DefaultScope

import mmplugin_transfuse  # noqa: F401
from mmplugin_transfuse.engine import (AtomicCheckpointHook, CheckedRunner,
                                       NonFiniteLossHook,
                                       NonFiniteSkipOptimWrapper)
from mmplugin_transfuse.engine.hooks import BatchNormPreflightHook
from tests.conftest import CONFIG_ROOT

CONFIGS = {
    'mmseg':
    osp.join(CONFIG_ROOT, 'baselines',
             'unet-s5-d16-c16_fcn_1xb4-600it_synthetic-polyp-128x128.py'),
    'mmdet':
    osp.join(CONFIG_ROOT, 'smca_detr',
             'smca-detr_r18_1xb8-36e_synthetic-shapes-160x160.py'),
}


@pytest.mark.parametrize('scope', ['mmseg', 'mmdet'])
def test_registries_fall_back_to_root(scope):
    import importlib
    child = importlib.import_module(f'{scope}.registry')
    assert child.HOOKS.get('AtomicCheckpointHook') is AtomicCheckpointHook
    assert child.HOOKS.get('NonFiniteLossHook') is NonFiniteLossHook
    assert child.HOOKS.get('BatchNormPreflightHook') is BatchNormPreflightHook
    assert child.OPTIM_WRAPPERS.get(
        'NonFiniteSkipOptimWrapper') is NonFiniteSkipOptimWrapper
    with DefaultScope.overwrite_default_scope(scope):
        hook = HOOKS.build(dict(type='AtomicCheckpointHook', interval=5))
        assert isinstance(hook, AtomicCheckpointHook)
    assert RUNNERS.get('CheckedRunner') is CheckedRunner


@pytest.mark.parametrize('scope', ['mmseg', 'mmdet'])
def test_real_config_builds_runner_hooks_and_wrapper(tmp_path, scope):
    cfg = Config.fromfile(CONFIGS[scope])
    assert cfg.default_scope == scope
    cfg.work_dir = str(tmp_path)
    cfg.runner_type = 'CheckedRunner'
    cfg.default_hooks.checkpoint.type = 'AtomicCheckpointHook'
    cfg.custom_hooks = [dict(type='NonFiniteLossHook')]
    cfg.optim_wrapper.type = 'NonFiniteSkipOptimWrapper'
    cfg.optim_wrapper.max_consecutive_skips = 3
    runner = RUNNERS.build(cfg)
    assert isinstance(runner, CheckedRunner)
    types = [type(h) for h in runner.hooks]
    assert AtomicCheckpointHook in types and NonFiniteLossHook in types
    # ABOVE_NORMAL: before LoggerHook and CheckpointHook of an iteration
    names = [type(h).__name__ for h in runner.hooks]
    assert names.index('NonFiniteLossHook') < names.index('LoggerHook')
    assert names.index('NonFiniteLossHook') < names.index(
        'AtomicCheckpointHook')
    wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    assert isinstance(wrapper, NonFiniteSkipOptimWrapper)
    assert wrapper.max_consecutive_skips == 3

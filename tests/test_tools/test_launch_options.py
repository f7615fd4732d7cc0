"""tools/train.py and tools/test.py: options become config fields; the
checks happen in CheckedRunner (one place), not in the scripts."""
import os.path as osp

import pytest
import torch

from tests.conftest import CONFIG_ROOT, load_tool

UNET = osp.join(CONFIG_ROOT, 'baselines',
                'unet-s5-d16-c16_fcn_1xb4-600it_synthetic-polyp-128x128.py')
NAME = 'unet-s5-d16-c16_fcn_1xb4-600it_synthetic-polyp-128x128'


def test_train_options_to_config(tmp_path):
    setup_cfg = load_tool('train.py').setup_cfg
    cfg = setup_cfg([UNET])
    assert cfg.work_dir == osp.join('./work_dirs', NAME)
    assert cfg.runner_type == 'CheckedRunner'
    assert cfg.launcher == 'none'
    assert not cfg.get('resume', False)

    cfg = setup_cfg([UNET, '--resume', '--amp', '--work-dir', str(tmp_path),
                     '--cfg-options', 'load_from=x.pth', 'runner_type=Runner'])
    assert cfg.resume is True and cfg.load_from is None  # latest in work_dir
    assert cfg.work_dir == str(tmp_path)
    assert cfg.runner_type == 'Runner'  # a config's own choice is kept
    # --amp: float16 + loss scaling on CUDA, bfloat16 autocast on CPU
    if torch.cuda.is_available():
        assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
        assert cfg.optim_wrapper.loss_scale == 'dynamic'
    else:
        assert cfg.optim_wrapper.type == 'CPUAmpOptimWrapper'
        assert cfg.optim_wrapper.dtype == 'bfloat16'
    assert cfg.get('forward_compile') is None  # no --compile

    cfg = setup_cfg([UNET, '--resume', 'ckpt/iter_4.pth'])
    assert cfg.resume is True and cfg.load_from == 'ckpt/iter_4.pth'

    with pytest.raises(FileNotFoundError, match='no_such_config.py'):
        setup_cfg([str(tmp_path / 'no_such_config.py')])


def test_test_options_to_config(tmp_path):
    setup_cfg = load_tool('test.py').setup_cfg
    cfg = setup_cfg([UNET, 'model.pth', '--out', 'preds.pkl', '--show-dir',
                     str(tmp_path / 'vis')])
    assert cfg.load_from == 'model.pth'
    assert cfg.runner_type == 'CheckedRunner'
    assert cfg.test_evaluator[-1] == dict(
        type='mmengine.DumpResults', out_file_path='preds.pkl')
    assert cfg.default_hooks.visualization.draw is True
    # the seg runtime's SubsetSegVisualizationHook writes the files itself
    assert cfg.default_hooks.visualization.type == \
        'SubsetSegVisualizationHook'
    assert cfg.default_hooks.visualization.test_out_dir == str(
        tmp_path / 'vis')
    with pytest.raises(ValueError, match='--out must be a .pkl file'):
        setup_cfg([UNET, 'model.pth', '--out', 'preds.json'])


def test_compile_option_compiles_the_forward_not_train_step(monkeypatch):
    cfg = load_tool('train.py').setup_cfg([UNET, '--compile'])
    # mmengine's `compile` (train_step as a whole) is off, the forward's on
    assert cfg.compile is None and cfg.forward_compile == {}
    cfg = load_tool('train.py').setup_cfg([
        UNET, '--compile', '--cfg-options', 'compile.backend=aot_eager',
        'compile.dynamic=False'
    ])
    assert cfg.compile is None
    assert cfg.forward_compile == dict(backend='aot_eager', dynamic=False)
    cfg = load_tool('test.py').setup_cfg([UNET, 'model.pth', '--compile'])
    assert cfg.forward_compile == {}
    assert 'forward_compile' not in load_tool('test.py').setup_cfg(
        [UNET, 'model.pth'])

    from types import SimpleNamespace

    from mmplugin_transfuse.engine.runner.launch import compile_model_forward
    calls = []
    monkeypatch.setattr(torch, 'compile',
                        lambda fn, **kw: calls.append((fn, kw)) or 'compiled')
    model = torch.nn.Linear(1, 1)
    forward = model.forward
    compile_model_forward(SimpleNamespace(cfg=cfg, model=model))
    assert calls == [(forward, {})] and model.forward == 'compiled'
    # parameter names unchanged (torch.compile(model) adds `_orig_mod.`)
    assert list(model.state_dict()) == ['weight', 'bias']
    compile_model_forward(SimpleNamespace(cfg=load_tool('test.py').setup_cfg(
        [UNET, 'model.pth']), model=model))
    assert len(calls) == 1  # without --compile nothing is compiled


def test_missing_resume_checkpoint_is_named_by_the_runner(tmp_path):
    train = load_tool('train.py')
    missing = str(tmp_path / 'iter_9.pth')
    with pytest.raises(FileNotFoundError) as err:
        train.main([UNET, '--work-dir', str(tmp_path), '--resume', missing,
                    '--cfg-options',
                    f'train_dataloader.dataset.data_root={tmp_path}/x'])
    msg = str(err.value)
    assert f"load_from = '{missing}': checkpoint file not found" in msg
    assert 'train_dataloader.dataset.data_root' in msg


def test_close_distributed_destroys_the_group(tmp_path):
    import torch.distributed as dist

    from mmplugin_transfuse.engine.runner.launch import close_distributed
    close_distributed()  # no process group: nothing to do, no error
    assert not dist.is_initialized()
    dist.init_process_group(
        'gloo', init_method=f'file://{tmp_path}/store', rank=0, world_size=1)
    try:
        assert dist.is_initialized()
        close_distributed()
        assert not dist.is_initialized()
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()

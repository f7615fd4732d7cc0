"""tools/train.py and tools/test.py: options become config fields; the
checks happen in CheckedRunner (one place), not in the scripts."""
import os.path as osp

import pytest

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
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'

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

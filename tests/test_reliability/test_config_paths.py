"""Missing data root / load_from / pretrained: one clear error, early."""
import os.path as osp
import sys

import pytest
from mmengine.config import Config
from mmengine.registry import RUNNERS, init_default_scope

import mmplugin_transfuse  # noqa: F401
from mmplugin_transfuse.engine import CheckedRunner, check_config_paths
from tests.conftest import CONFIG_ROOT, load_tool

UNET = osp.join(CONFIG_ROOT, 'baselines',
                'unet-s5-d16-c16_fcn_1xb4-600it_synthetic-polyp-128x128.py')
SMCA_COCO = osp.join(CONFIG_ROOT, 'smca_detr',
                     'smca-detr_r50_8xb2-50e_coco.py')


def unet_cfg(data_root: str) -> Config:
    cfg = Config.fromfile(UNET)
    for stage in ('train', 'val', 'test'):
        cfg[f'{stage}_dataloader'].dataset.data_root = data_root
    return cfg


def test_missing_data_root_names_every_field(tmp_path):
    missing = str(tmp_path / 'no_such_dir')
    with pytest.raises(FileNotFoundError) as err:
        check_config_paths(unet_cfg(missing))
    msg = str(err.value)
    for stage in ('train', 'val', 'test'):
        assert (f"{stage}_dataloader.dataset.data_root = '{missing}': "
                'folder not found') in msg
    with pytest.raises(FileNotFoundError) as err:
        check_config_paths(unet_cfg(missing), stages=('test', ))
    assert 'train_dataloader' not in str(err.value)


def test_existing_root_missing_split_and_folder(synthetic_polyp_root):
    cfg = unet_cfg(synthetic_polyp_root)
    check_config_paths(cfg)  # everything is there
    cfg.train_dataloader.dataset.ann_file = 'splits/nope.txt'
    cfg.val_dataloader.dataset.data_prefix.seg_map_path = 'labels'
    with pytest.raises(FileNotFoundError) as err:
        check_config_paths(cfg)
    msg = str(err.value)
    assert "train_dataloader.dataset.ann_file = '" in msg
    assert 'splits/nope.txt' in msg
    assert 'val_dataloader.dataset.data_prefix.seg_map_path' in msg


def test_missing_load_from_and_pretrained(tmp_path, synthetic_polyp_root):
    cfg = unet_cfg(synthetic_polyp_root)
    cfg.load_from = str(tmp_path / 'iter_100.pth')
    cfg.model.backbone.init_cfg = dict(
        type='Pretrained', checkpoint=str(tmp_path / 'backbone.pth'))
    cfg.model.pretrained = 'pretrained/unet.pth'
    with pytest.raises(FileNotFoundError) as err:
        check_config_paths(cfg)
    msg = str(err.value)
    assert f"load_from = '{tmp_path / 'iter_100.pth'}'" in msg
    assert 'model.backbone.init_cfg.checkpoint' in msg
    assert "model.pretrained = 'pretrained/unet.pth'" in msg


def test_concat_datasets_coco_metric_and_urls(tmp_path):
    """Nested datasets get indexed field names; torchvision:// is skipped."""
    cfg = Config.fromfile(SMCA_COCO)
    cfg.train_dataloader.dataset = dict(
        type='ConcatDataset',
        datasets=[cfg.train_dataloader.dataset,
                  dict(type='CocoDataset', data_root=str(tmp_path),
                       ann_file='a.json')])
    with pytest.raises(FileNotFoundError) as err:
        check_config_paths(cfg)
    msg = str(err.value)
    assert 'train_dataloader.dataset.datasets[0].data_root' in msg
    assert 'train_dataloader.dataset.datasets[1].ann_file' in msg
    assert 'val_evaluator.ann_file' in msg
    assert 'torchvision://' not in msg  # remote weights are mmengine's job


def test_checked_runner_fails_before_building_datasets(tmp_path):
    cfg = unet_cfg(str(tmp_path / 'gone'))
    cfg.work_dir = str(tmp_path / 'work')
    cfg.runner_type = 'CheckedRunner'
    runner = RUNNERS.build(cfg)  # found from the root registry
    assert isinstance(runner, CheckedRunner)
    with pytest.raises(FileNotFoundError,
                       match='train_dataloader.dataset.data_root'):
        runner.train()
    with pytest.raises(FileNotFoundError) as err:
        runner.test()
    assert 'test_dataloader' in str(err.value)
    assert 'train_dataloader' not in str(err.value)


def test_tools_train_checks_paths(tmp_path, monkeypatch):
    train = load_tool('train.py')
    monkeypatch.setattr(sys, 'argv', [
        'train.py', UNET, '--work-dir', str(tmp_path), '--cfg-options',
        f'train_dataloader.dataset.data_root={tmp_path}/x',
        f'load_from={tmp_path}/ckpt.pth'
    ])
    with pytest.raises(FileNotFoundError) as err:
        train.main()
    msg = str(err.value)
    assert 'train_dataloader.dataset.data_root' in msg
    assert 'load_from' in msg


def test_tools_test_checks_test_paths_only(tmp_path, monkeypatch):
    test = load_tool('test.py')
    ckpt = tmp_path / 'model.pth'
    ckpt.write_bytes(b'x')
    monkeypatch.setattr(sys, 'argv', [
        'test.py', UNET, str(ckpt), '--work-dir', str(tmp_path),
        '--cfg-options', f'test_dataloader.dataset.data_root={tmp_path}/x'
    ])
    with pytest.raises(FileNotFoundError) as err:
        test.main()
    assert 'test_dataloader.dataset.data_root' in str(err.value)
    assert 'train_dataloader' not in str(err.value)

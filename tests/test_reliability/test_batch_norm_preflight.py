"""One image per process over a 1x1 map: refused before training, named."""
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import DefaultSampler, InfiniteSampler, pseudo_collate
from mmengine.registry import RUNNERS
from torch.utils.data import DataLoader

import mmplugin_transfuse  # noqa: F401
from mmplugin_transfuse.engine.hooks import BatchNormPreflightHook
from mmplugin_transfuse.engine.hooks.batch_norm_preflight_hook import \
    smallest_batch
from tests.conftest import CONFIG_ROOT

TRANSFUSE = osp.join(
    CONFIG_ROOT, 'transfuse',
    'transfuse-s_r34-deit-s_1xb8-200_synthetic-polyp-128x128.py')


def transfuse_runner(root, work, size: int, batch: int, hooks=()):
    """The TransFuse-S demo config (ResNet-18, 1 ViT block), trained at
    size x size for one iteration."""
    cfg = Config.fromfile(TRANSFUSE)
    cfg.work_dir = str(work)
    cfg.model.backbone.cnn.depth = 18
    cfg.model.backbone.global_branch.depth = 1
    loader = cfg.train_dataloader
    loader.update(batch_size=batch, num_workers=0, persistent_workers=False)
    loader.dataset.data_root = root
    resize = [t for t in loader.dataset.pipeline if t['type'] == 'Resize']
    resize[0]['scale'] = (size, size)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=1)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint.update(interval=100, save_last=False)
    cfg.custom_hooks = [dict(type='NonFiniteLossHook')] + list(hooks)
    return RUNNERS.build(cfg)


def test_batch_1_over_a_1x1_map_is_refused_naming_the_layers(
        synthetic_polyp_root, tmp_path):
    # 16x16 input: the ResNet's layer3 (1/16) runs on a 1x1 map
    runner = transfuse_runner(synthetic_polyp_root, tmp_path / 'b1', 16, 1,
                              [dict(type='BatchNormPreflightHook')])
    with pytest.raises(ValueError) as err:
        runner.train()
    msg = str(err.value)
    assert 'with 1 image(s) per process (batch_size=1)' in msg
    # the ResNet branch's first 1/16 block (attribute name aside)
    assert re.search(r'backbone\.\w+\.layer3\.0\.bn1 \[1, 256, 1, 1\]', msg)
    assert 'layer3.0.downsample.1 [1, 256, 1, 1]' in msg
    assert 'SyncBN' in msg and "type='GN'" in msg and 'batch_size >= 2' in msg
    assert runner.iter == 0  # no iteration ran
    # the preflight forward left every BatchNorm's statistics untouched
    tracked = [v for k, v in runner.model.state_dict().items()
               if k.endswith('num_batches_tracked')]
    assert len(tracked) > 20 and all(int(t) == 0 for t in tracked)


def test_without_the_check_torch_fails_inside_the_iteration(
        synthetic_polyp_root, tmp_path):
    """Control: the same config fails in the middle of iteration 1 with an
    error that names no layer (under DDP: on one rank, the others hang)."""
    runner = transfuse_runner(synthetic_polyp_root, tmp_path / 'raw', 16, 1)
    with pytest.raises(ValueError, match='Expected more than 1 value per '
                       'channel when training'):
        runner.train()


def test_two_images_over_a_1x1_map_pass(synthetic_polyp_root, tmp_path):
    """2 values per channel are enough for torch; no false alarm."""
    runner = transfuse_runner(synthetic_polyp_root, tmp_path / 'b2', 16, 2)
    BatchNormPreflightHook().before_train(runner)  # does not raise
    tracked = [v for k, v in runner.model.state_dict().items()
               if k.endswith('num_batches_tracked')]
    assert all(int(t) == 0 for t in tracked)


class _Dataset(torch.utils.data.Dataset):

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return i


@pytest.mark.parametrize('n, batch, sampler, drop_last, expected', [
    (5, 2, 'infinite', False, 2),  # iteration-based: always full
    (5, 2, 'default', False, 1),  # 5 = 2 + 2 + 1
    (5, 2, 'default', True, 2),
    (6, 3, 'default', False, 3),
    (7, 4, 'default', False, 3),
])
def test_smallest_batch(n, batch, sampler, drop_last, expected):
    ds = _Dataset(n)
    sampler = (InfiniteSampler(ds, shuffle=False) if sampler == 'infinite'
               else DefaultSampler(ds, shuffle=False))
    loader = DataLoader(ds, batch_size=batch, sampler=sampler,
                        drop_last=drop_last, collate_fn=pseudo_collate)
    assert smallest_batch(loader)[0] == expected

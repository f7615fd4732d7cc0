"""Shared helpers for the TransFuse model tests."""
import os.path as osp
from typing import List

import pytest
import torch
from mmengine import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData

import mmplugin_transfuse  # noqa: F401  registers the modules
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(__file__))))
CONFIG_DIR = osp.join(REPO, 'configs', 'transfuse')
MODEL_S = osp.join(CONFIG_DIR, '_base_', 'models', 'transfuse-s_r34-deit-s.py')
MODEL_L = osp.join(CONFIG_DIR, '_base_', 'models', 'transfuse-l_r50-deit-b.py')


@pytest.fixture(autouse=True)
def mmseg_scope():
    init_default_scope('mmseg')
    torch.manual_seed(0)


def _build_model(path: str, **overrides) -> torch.nn.Module:
    """Build ``model`` of a config file, with ``Config.merge_from_dict``."""
    cfg = Config.fromfile(path)
    if overrides:
        cfg.merge_from_dict(overrides)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def _make_samples(batch: int,
                  h: int,
                  w: int,
                  num_classes: int = 2) -> List[SegDataSample]:
    """Data samples with random integer masks in ``[0, num_classes)``."""
    samples = []
    for _ in range(batch):
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, num_classes, (1, h, w)))
        sample.set_metainfo(
            dict(img_shape=(h, w), pad_shape=(h, w), ori_shape=(h, w)))
        samples.append(sample)
    return samples


@pytest.fixture
def build_model():
    """``build_model(config_path, **merge_from_dict_overrides)``."""
    return _build_model


@pytest.fixture
def make_samples():
    """``make_samples(batch, h, w, num_classes=2)``."""
    return _make_samples


@pytest.fixture
def model_paths():
    """Paths of the TransFuse model base configs and the config folder."""
    return dict(s=MODEL_S, l=MODEL_L, config_dir=CONFIG_DIR)

"""Shared helpers for the SMCA-DETR model tests."""
import os.path as osp

import pytest
from mmengine import Config
from mmengine.registry import init_default_scope

import mmplugin_transfuse  # noqa: F401  registers the SMCA modules

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
SMCA_CFG_DIR = osp.join(REPO, 'configs', 'smca_detr')
R50_CFG = osp.join(SMCA_CFG_DIR, 'smca-detr_r50_8xb2-50e_coco.py')


@pytest.fixture(autouse=True)
def mmdet_scope():
    init_default_scope('mmdet')


def load_r50_cfg() -> Config:
    """The real R50 COCO config, with the pretrained backbone switched off."""
    cfg = Config.fromfile(R50_CFG)
    cfg.model.backbone.init_cfg = None
    return cfg

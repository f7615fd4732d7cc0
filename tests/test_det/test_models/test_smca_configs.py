"""Every config in configs/smca_detr loads and builds its model."""
import glob
import os.path as osp

import pytest
from mmdet.registry import MODELS
from mmengine import Config

from .conftest import SMCA_CFG_DIR

CONFIGS = sorted(glob.glob(osp.join(SMCA_CFG_DIR, '*.py')))


def test_configs_found():
    names = {osp.basename(p) for p in CONFIGS}
    for required in [
            'smca-detr_r50_8xb2-50e_coco.py',
            'smca-detr_r50_8xb2-108e_coco.py',
            'smca-detr_r101_8xb2-50e_coco.py',
            'smca-detr_r101_8xb2-108e_coco.py',
            'detr_r50-focal-300q_8xb2-50e_coco.py',
            'smca-detr-shared-indep_r50_8xb2-50e_coco.py',
            'smca-detr-fixed_r50_8xb2-50e_coco.py',
            'smca-detr-single_r50_8xb2-50e_coco.py',
    ]:
        assert required in names


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmdet'
    assert cfg.custom_imports == dict(
        imports=['mmplugin_transfuse'], allow_failed_imports=False)
    cfg.model.backbone.init_cfg = None  # no downloads here
    model = MODELS.build(cfg.model)
    name = osp.basename(path)
    if name.startswith('detr_'):
        assert type(model).__name__ == 'DETR'
        assert type(model.bbox_head).__name__ == 'DETRHead'
        assert model.num_queries == 300
        assert model.bbox_head.loss_cls.use_sigmoid
        return
    assert type(model).__name__ == 'SMCADETR'
    layer = model.decoder.layers[0]
    expected_mode = ('Fixed' if '-fixed_' in name else
                     'Single' if '-single_' in name else 'Indep')
    assert layer.scale_mode == expected_mode
    assert layer.head_shared_prior == ('-shared-' in name)
    if '-dc5_' in name:
        assert model.feat_stride == 16
    elif 'synthetic' not in name:
        assert model.feat_stride == 32
        assert model.num_queries == 300
        assert model.bbox_head.num_classes == 80

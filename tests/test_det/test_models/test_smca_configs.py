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
            'smca-detr-ms_r50_8xb2-50e_coco.py',
            'smca-detr-ms_r50_8xb2-108e_coco.py',
            'smca-detr-ms_r101_8xb2-50e_coco.py',
            'smca-detr-ms-3intra_r50_8xb2-50e_coco.py',
            'smca-detr-ms-3multi_r50_8xb2-50e_coco.py',
            'smca-detr-ms-5intra_r50_8xb2-50e_coco.py',
            'smca-detr-ms-no-ssa_r50_8xb2-50e_coco.py',
            'smca-detr-ms-share-ffn_r50_8xb2-50e_coco.py',
            'smca-detr-ms-share-sa_r50_8xb2-50e_coco.py',
            'smca-detr-ms-no-share_r50_8xb2-50e_coco.py',
            'smca-detr-ms-dwconv_r50_8xb2-50e_coco.py',
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
    if name.startswith('smca-detr-ms'):
        check_multi_scale(model, name)
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
        # COCO: mmdet's 80 classes; an own-data config: its dataset's classes
        classes = cfg.train_dataloader.dataset.get('metainfo',
                                                   {}).get('classes')
        assert model.bbox_head.num_classes == (len(classes)
                                               if classes else 80)


# the multi-scale variants' names -> encoder layout / intra-layer sharing
MS_LAYOUTS = {
    '-3intra_': ['intra'] * 3,
    '-3multi_': ['multi'] * 3,
    '-5intra_': ['intra'] * 5,
}
MS_SHARE = {'-share-ffn_': 'ffn', '-share-sa_': 'sa', '-no-share_': 'none'}


def check_multi_scale(model, name):
    """Multi-scale SMCA configs: the variant named is the variant built."""
    assert type(model).__name__ == 'SMCADETRMultiScale'
    if '-dwconv_' in name:
        assert type(model.encoder).__name__ == 'SMCADWConvEncoder'
        assert model.encoder.num_layers == 6
        assert model.feat_strides == [8, 16, 32, 64]
        assert model.decoder.layers[0].level_prior_factors == [.5, .5, 1, 2]
        assert model.encoder.layers[0].ffn.layers[0][0].out_features == 1024
        assert len(model.encoder.layers[0].down_convs) == 1  # shared
        return
    assert model.feat_strides == [16, 32, 64]
    if 'synthetic' in name:
        assert model.encoder.layout == ['intra', 'multi']
        return
    layout = next((v for k, v in MS_LAYOUTS.items() if k in name),
                  ['intra', 'intra', 'multi', 'intra', 'intra'])
    assert model.encoder.layout == layout
    share = next((v for k, v in MS_SHARE.items() if k in name), 'all')
    assert model.encoder.intra_share == share
    layer = model.decoder.layers[0]
    assert layer.use_scale_selection == ('-no-ssa_' not in name)
    assert layer.scale_mode == 'Indep' and not layer.head_shared_prior
    assert layer.num_levels == 3 == len(model.feat_strides)
    assert model.num_queries == 300
    assert model.bbox_head.num_classes == 80
    assert model.test_cfg['max_per_img'] == 300
    assert model.encoder.embed_dims == 256
    ffn_width = model.encoder.layers[-1].ffns[0].layers[0][0].out_features \
        if layout[-1] == 'intra' else \
        model.encoder.layers[-1].ffn.layers[0][0].out_features
    assert ffn_width == 1024
    assert layer.ffn.layers[0][0].out_features == 1024
    assert model.backbone.depth == (101 if '_r101_' in name else 50)

"""One registration rule: the shared checked image loader lives in mmengine's
root ``TRANSFORMS`` and is found from mmseg- and mmdet-scoped configs."""
import importlib
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import TRANSFORMS, DefaultScope

import mmplugin_transfuse  # noqa: F401
from mmplugin_transfuse.utils import CheckedLoadImageFromFile
from tests.conftest import CONFIG_ROOT
from tests.test_seg.test_datasets.fake_trees import point_dataset_to


@pytest.mark.parametrize('scope', ['mmseg', 'mmdet'])
def test_registered_once_in_the_root_registry(scope):
    child = importlib.import_module(f'{scope}.registry').TRANSFORMS
    assert child.parent is TRANSFORMS
    # not a copy per library: the child finds the root's entry
    assert 'CheckedLoadImageFromFile' not in child.module_dict
    assert TRANSFORMS.module_dict[
        'CheckedLoadImageFromFile'] is CheckedLoadImageFromFile
    assert child.get('CheckedLoadImageFromFile') is CheckedLoadImageFromFile


@pytest.mark.parametrize('scope,config,root_fixture', [
    ('mmseg', 'baselines/unet-s5-d16-c16_fcn_1xb4-600it_synthetic-polyp-'
     '128x128.py', 'synthetic_polyp_root'),
    ('mmdet', 'smca_detr/smca-detr_r18_1xb8-36e_synthetic-shapes-160x160.py',
     'synthetic_shapes_root'),
])
def test_real_config_pipeline_loads_with_it(scope, config, root_fixture,
                                             request):
    """The training pipeline of a real config, built under the config's own
    default scope (as ``mim train/test mmseg|mmdet`` does), starts with the
    checked loader and loads an image."""
    cfg = Config.fromfile(osp.join(CONFIG_ROOT, config))
    assert cfg.default_scope == scope
    dataset_cfg = cfg.train_dataloader.dataset
    assert dataset_cfg.pipeline[0].type == 'CheckedLoadImageFromFile'
    point_dataset_to(dataset_cfg, request.getfixturevalue(root_fixture))
    datasets = importlib.import_module(f'{scope}.registry').DATASETS
    with DefaultScope.overwrite_default_scope(scope):
        dataset = datasets.build(dataset_cfg)
        item = dataset[0]
    assert isinstance(dataset.pipeline.transforms[0], CheckedLoadImageFromFile)
    h, w = item['data_samples'].ori_shape
    assert item['inputs'].shape[0] == 3 and h > 0 and w > 0

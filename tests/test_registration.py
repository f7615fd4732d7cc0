"""``import mmplugin_transfuse`` registers every module into the right scope."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

import mmplugin_transfuse  # noqa: F401
from tests.conftest import CONFIG_ROOT

SEG = {
    'MODELS': [
        'TransFuseBackbone', 'TransFuseResNet', 'TransFuseViT',
        'TransFuseVGG', 'BiFusionNeck', 'TransFuseHead', 'StructureLoss'
    ],
    'DATASETS': [
        'PolypDataset', 'ISIC2017Dataset', 'Medical2DDataset',
        'ProstateSliceDataset'
    ],
    'TRANSFORMS': [
        'BinarizeMask', 'CheckedLoadAnnotations', 'CheckedLoadImageFromFile',
        'LoadMultiModalSliceFromFiles'
    ],
    'METRICS': [
        'PerImageDiceMetric', 'PerVolumeDiceMetric', 'SurfaceDistanceMetric'
    ],
}
DET = {
    'MODELS': ['SMCADETR', 'SMCADETRHead'],
    'DATASETS': ['CheckedCocoDataset'],
    'TRANSFORMS': ['CheckedLoadImageFromFile'],
}


@pytest.mark.parametrize('registry,names', sorted(SEG.items()))
def test_seg_modules_in_mmseg_registries(registry, names):
    import mmseg.registry as reg
    for name in names:
        assert getattr(reg, registry).get(name) is not None, name


@pytest.mark.parametrize('registry,names', sorted(DET.items()))
def test_det_modules_in_mmdet_registries(registry, names):
    import mmdet.registry as reg
    for name in names:
        assert getattr(reg, registry).get(name) is not None, name


def test_seg_modules_not_leaked_into_mmdet():
    import mmdet.registry as det_reg
    import mmseg.registry as seg_reg
    # Modules stay in their own library's scope.
    assert 'PolypDataset' not in det_reg.DATASETS.module_dict
    assert 'TransFuseHead' not in det_reg.MODELS.module_dict
    assert 'SMCADETR' not in seg_reg.MODELS.module_dict


def test_every_config_loads_the_plugin_loudly():
    configs = [
        c for c in glob.glob(osp.join(CONFIG_ROOT, '**', '*.py'),
                             recursive=True) if '_base_' not in c
    ]
    assert configs
    for path in configs:
        cfg = Config.fromfile(path)
        assert cfg.custom_imports == dict(
            imports=['mmplugin_transfuse'], allow_failed_imports=False), path
        # detection configs are the DETR family; everything else is mmseg
        scope = 'mmdet' if 'detr' in osp.basename(path) else 'mmseg'
        assert cfg.default_scope == scope, path


def test_mim_finds_the_package_configs():
    from mim.utils import get_installed_path
    root = get_installed_path('mmplugin_transfuse')
    assert osp.isdir(osp.join(root, '.mim', 'configs', '_base_'))
    assert osp.isfile(osp.join(root, '.mim', 'tools', 'train.py'))

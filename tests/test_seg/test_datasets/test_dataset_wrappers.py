"""SharedPipelineConcatDataset: the five PraNet test sets, one pipeline."""
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from mmplugin_transfuse.seg.datasets import (PolypDataset,
                                             SharedPipelineConcatDataset)
from tests.conftest import CONFIG_ROOT, load_tool
from .fake_trees import PRANET_TEST_SETS, make_pranet_tree, point_dataset_to

POLYP_BASE = osp.join(CONFIG_ROOT, '_base_', 'datasets', 'polyp_pranet.py')


@pytest.fixture(scope='module')
def pranet_root(tmp_path_factory) -> str:
    """Converted PraNet tree; every set names its images 1.png, 2.png ..."""
    tmp = tmp_path_factory.mktemp('pranet')
    make_pranet_tree(str(tmp / 'src'), num_train=1, num_test=(2, 1, 1, 1, 3),
                     numbered=True)
    load_tool('dataset_converters/polyp_pranet.py').main(
        [str(tmp / 'src'), '--out', str(tmp / 'polyp')])
    return str(tmp / 'polyp')


def test_polyp_base_builds_five_sets_with_the_shared_pipeline(pranet_root):
    init_default_scope('mmseg')
    cfg = Config.fromfile(POLYP_BASE)
    ds_cfg = point_dataset_to(cfg.test_dataloader.dataset.copy(), pranet_root)
    # the one pipeline is where the Inferencers read it
    assert ds_cfg.pipeline == cfg.test_pipeline
    assert all('pipeline' not in sub for sub in ds_cfg.datasets)
    ds_cfg.pipeline[1]['scale'] = (32, 32)  # once, for every set
    dataset = DATASETS.build(ds_cfg)
    assert isinstance(dataset, SharedPipelineConcatDataset)
    assert [len(d) for d in dataset.datasets] == [2, 1, 1, 1, 3]
    seen = []
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        assert tuple(sample.img_shape) == (32, 32)
        seen.append((sample.subset, osp.basename(sample.img_path)))
    # file names recur across sets; (set, name) tells the samples apart
    expected = [(name, f'{k + 1}.png')
                for name, n in zip(PRANET_TEST_SETS, (2, 1, 1, 1, 3))
                for k in range(n)]
    assert seen == expected
    assert dataset.metainfo['classes'] == PolypDataset.METAINFO['classes']


def test_shared_pipeline_concat_dataset_errors(pranet_root):
    init_default_scope('mmseg')
    one = dict(type='PolypDataset', data_root=osp.join(pranet_root, 'Kvasir'),
               data_prefix=dict(img_path='images', seg_map_path='masks'),
               img_suffix='.png', seg_map_suffix='.png')
    pipeline = [dict(type='LoadImageFromFile')]
    with pytest.raises(ValueError, match=r'datasets\[1\] \(PolypDataset\) '
                       r'has a pipeline of its own.*remove datasets\[1\]'):
        SharedPipelineConcatDataset(
            [one, dict(one, pipeline=pipeline)], pipeline=pipeline)
    built = DATASETS.build(one)
    with pytest.raises(TypeError, match=r'datasets\[0\] must be a dataset '
                       'config'):
        SharedPipelineConcatDataset([built], pipeline=pipeline)
    with pytest.raises(ValueError, match='at least one'):
        SharedPipelineConcatDataset([], pipeline=pipeline)
    # the sets' configs are not modified by the wrapper
    cfgs = [dict(one), dict(one)]
    ds = SharedPipelineConcatDataset(cfgs, pipeline=pipeline)
    assert 'pipeline' not in cfgs[0] and len(ds) == 4
    img = ds[3]['img']
    assert img.shape == (20, 24, 3) and img.dtype == np.uint8

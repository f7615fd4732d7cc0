"""Dataset classes and transforms: samples, metadata, errors."""
import json
import os.path as osp

import numpy as np
import pytest
from mmengine.registry import init_default_scope

from mmplugin_transfuse.seg.datasets import (BinarizeMask,
                                             LoadMultiModalSliceFromFiles,
                                             Medical2DDataset, PolypDataset,
                                             ProstateSliceDataset)
from mmseg.registry import DATASETS
from tests.conftest import load_tool
from .fake_trees import (make_medical_2d_tree, make_msd_prostate_tree,
                         make_pranet_tree)

HIP_META = dict(classes=('background', 'pelvis', 'left_femur', 'right_femur'))


def test_medical_2d_dataset_merges_meta_file(tmp_path):
    init_default_scope('mmseg')
    root = str(tmp_path / 'hip')
    cases = make_medical_2d_tree(root)
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='PackSegInputs', meta_keys=('img_path', 'spacing'))
    ]
    ds = DATASETS.build(
        dict(
            type='Medical2DDataset',
            metainfo=HIP_META,
            data_root=root,
            data_prefix=dict(img_path='images', seg_map_path='masks'),
            ann_file='splits/train.txt',
            meta_file='meta.json',
            pipeline=pipeline))
    assert len(ds) == 2
    item = ds[1]
    assert item['data_samples'].spacing == cases['case01']['spacing']
    np.testing.assert_array_equal(item['data_samples'].gt_sem_seg.data[0],
                                  cases['case01']['mask'])
    assert ds.metainfo['classes'] == HIP_META['classes']


def test_medical_2d_dataset_default_spacing_and_errors(tmp_path):
    root = str(tmp_path / 'hip')
    make_medical_2d_tree(root)
    common = dict(
        metainfo=HIP_META,
        data_root=root,
        data_prefix=dict(img_path='images', seg_map_path='masks'))
    ds = Medical2DDataset(spacing=(0.2, 0.3), **common)
    assert len(ds) == 3 and ds.get_data_info(0)['spacing'] == [0.2, 0.3]
    with pytest.raises(ValueError, match='class names'):
        Medical2DDataset(
            data_root=root,
            data_prefix=dict(img_path='images', seg_map_path='masks'))
    with pytest.raises(FileNotFoundError, match='missing.json'):
        Medical2DDataset(meta_file='missing.json', **common)
    with open(osp.join(root, 'meta.json'), 'w') as f:
        json.dump({'case00': {'spacing': [1, 1]}}, f)
    with pytest.raises(KeyError, match="'case01' has no entry"):
        Medical2DDataset(meta_file='meta.json', **common)


def test_prostate_dataset_and_modality_loading(tmp_path):
    src, out = str(tmp_path / 'Task05_Prostate'), str(tmp_path / 'prostate')
    make_msd_prostate_tree(src, depths=(2, 3))
    load_tool('dataset_converters/prostate_msd.py').main(
        [src, '--out', out, '--val-ratio', '0'])
    ds = ProstateSliceDataset(
        data_root=out,
        data_prefix=dict(img_path='images', seg_map_path='masks'),
        ann_file='splits/train.txt')
    assert len(ds) == 5
    info = ds.get_data_info(3)
    assert info['volume_id'] == 'prostate_01' and info['slice_idx'] == 1
    assert info['num_slices'] == 3
    assert info['modality_paths'] == [
        osp.join(out, 'images', 'prostate_01_s001_0000.png'),
        osp.join(out, 'images', 'prostate_01_s001_0001.png')
    ]
    loaded = LoadMultiModalSliceFromFiles(channels=(1, 0))(dict(info))
    assert loaded['img'].shape == (10, 8, 2)
    import cv2
    np.testing.assert_array_equal(
        loaded['img'][..., 0], cv2.imread(info['modality_paths'][1], 0))
    with pytest.raises(IndexError, match='modality 2'):
        LoadMultiModalSliceFromFiles(channels=(0, 2))(dict(info))
    with pytest.raises(KeyError, match='modality_paths'):
        LoadMultiModalSliceFromFiles()(dict(img_path='x.png'))
    # slices.json must describe every slice
    with open(osp.join(out, 'slices.json')) as f:
        slices = json.load(f)
    del slices['prostate_00_s000']['spacing']
    with open(osp.join(out, 'slices.json'), 'w') as f:
        json.dump(slices, f)
    with pytest.raises(KeyError, match=r"prostate_00_s000.*\['spacing'\]"):
        ProstateSliceDataset(
            data_root=out,
            data_prefix=dict(img_path='images', seg_map_path='masks'),
            ann_file='splits/train.txt')


def test_polyp_dataset_subset_and_raw_layout(tmp_path):
    src = str(tmp_path / 'PraNet')
    make_pranet_tree(src, num_train=2)
    # the raw PraNet test layout can be read directly too (0/255 masks)
    ds = PolypDataset(
        subset='Kvasir',
        data_root=osp.join(src, 'TestDataset', 'Kvasir'),
        data_prefix=dict(img_path='images', seg_map_path='masks'),
        img_suffix='.png',
        seg_map_suffix='.png',
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='BinarizeMask'),
            dict(type='PackSegInputs', meta_keys=('img_path', 'subset'))
        ])
    assert len(ds) == 2
    item = ds[0]
    assert item['data_samples'].subset == 'Kvasir'
    assert set(np.unique(item['data_samples'].gt_sem_seg.data)) <= {0, 1}
    plain = PolypDataset(
        data_root=osp.join(src, 'TestDataset', 'Kvasir'),
        data_prefix=dict(img_path='images', seg_map_path='masks'),
        img_suffix='.png',
        seg_map_suffix='.png')
    assert 'subset' not in plain.get_data_info(0)


def test_binarize_mask_threshold():
    seg = np.array([[0, 127, 128, 255]], np.uint8)
    out = BinarizeMask()(dict(gt_seg_map=seg))['gt_seg_map']
    np.testing.assert_array_equal(out, [[0, 0, 1, 1]])
    colour = np.stack([seg] * 3, axis=-1)
    out = BinarizeMask(threshold=1)(dict(gt_seg_map=colour))['gt_seg_map']
    np.testing.assert_array_equal(out, [[0, 1, 1, 1]])
    # converted 0/1 masks are already class ids: kept, not erased
    ids = np.array([[0, 1, 1, 0]], np.uint8)
    out = BinarizeMask()(dict(gt_seg_map=ids))['gt_seg_map']
    np.testing.assert_array_equal(out, ids)
    noisy = np.array([[0, 2, 200, 255]], np.uint8)
    out = BinarizeMask()(dict(gt_seg_map=noisy))['gt_seg_map']
    np.testing.assert_array_equal(out, [[0, 0, 1, 1]])

"""The SMCA COCO configs train and evaluate like the reference code
(gaopengcuhk/SMCA-DETR ``datasets/coco.py``, ``models/detr.py``)."""
import json
import os.path as osp

import numpy as np
import pytest
from mmdet.registry import DATASETS, TRANSFORMS
from mmengine import Config
from mmengine.registry import init_default_scope

import mmplugin_transfuse  # noqa: F401

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
CFG_DIR = osp.join(REPO, 'configs', 'smca_detr')


@pytest.fixture(scope='module')
def cfg():
    init_default_scope('mmdet')
    return Config.fromfile(osp.join(CFG_DIR, 'smca-detr_r50_8xb2-50e_coco.py'))


def resize(transform_cfg, h, w, seed=0):
    np.random.seed(seed)
    transform = TRANSFORMS.build(transform_cfg)
    out = transform(dict(img=np.zeros((h, w, 3), np.uint8), img_shape=(h, w)))
    return out['img'].shape[:2]


def test_crop_branch_resize_has_no_long_side_cap(cfg):
    """Reference: RandomResize([400, 500, 600]) (no max_size) before the crop;
    the plain branch keeps max_size=1333."""
    plain_branch, crop_branch = cfg.train_pipeline[3].transforms
    # a 1:4 image: 400..600 short side -> 1600..2400 long side, uncapped
    shapes = {resize(crop_branch[0], 100, 400, seed) for seed in range(20)}
    assert shapes == {(400, 1600), (500, 2000), (600, 2400)}
    # plain branch: 480..800 short side, long side capped at 1333
    shapes = {resize(plain_branch[0], 100, 400, seed) for seed in range(5)}
    assert shapes == {(333, 1333)}
    shapes = {resize(plain_branch[0], 300, 400, seed) for seed in range(40)}
    assert {h for h, _ in shapes} <= set(range(480, 801, 32))
    assert len(shapes) > 5
    assert crop_branch[1].crop_size == (384, 600)  # RandomSizeCrop(384, 600)


def test_train_set_keeps_every_image(cfg, tmp_path):
    """Reference CocoDetection uses every image id of the annotation file:
    images without boxes and images under 32 px stay in the train set."""
    coco = dict(
        images=[
            dict(id=1, file_name='a.jpg', height=200, width=300),
            dict(id=2, file_name='no_boxes.jpg', height=200, width=300),
            dict(id=3, file_name='tiny.jpg', height=20, width=24),
        ],
        annotations=[
            dict(id=1, image_id=1, category_id=1, bbox=[10, 10, 50, 60],
                 area=3000, iscrowd=0),
            dict(id=2, image_id=3, category_id=1, bbox=[1, 1, 10, 10],
                 area=100, iscrowd=0),
        ],
        categories=[dict(id=1, name='person')])
    ann = tmp_path / 'train.json'
    ann.write_text(json.dumps(coco))
    ds_cfg = cfg.train_dataloader.dataset.copy()
    ds_cfg.update(
        data_root=str(tmp_path), ann_file=str(ann), pipeline=[],
        data_prefix=dict(img=''))
    dataset = DATASETS.build(ds_cfg)
    assert sorted(d['img_id'] for d in dataset) == [1, 2, 3]


@pytest.mark.parametrize('name', [
    'smca-detr_r50_8xb2-50e_coco.py', 'smca-detr_r101_8xb2-108e_coco.py',
    'smca-detr_r50-dc5_8xb2-50e_coco.py'
])
def test_coco_configs_keep_reference_eval_and_loss(name):
    """300 detections per image (the reference PostProcess keeps the top
    `num_queries` (query, class) pairs) and the class-loss normaliser
    averaged over processes; the 50-epoch drop at 40."""
    cfg = Config.fromfile(osp.join(CFG_DIR, name))
    assert cfg.model.test_cfg.max_per_img == 300 == cfg.model.num_queries
    assert cfg.model.bbox_head.sync_cls_avg_factor is True
    assert cfg.train_dataloader.dataset.filter_cfg.filter_empty_gt is False
    if '50e' in name:
        assert cfg.param_scheduler[0].milestones == [40]

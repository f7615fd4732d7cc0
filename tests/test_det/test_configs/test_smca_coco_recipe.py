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


def by_type(transforms, name):
    """The one transform of type ``name`` (no index into the pipeline)."""
    found = [t for t in transforms if t['type'] == name]
    assert len(found) == 1, name
    return found[0]


def test_train_pipeline_sizes_flips_and_boxes(cfg):
    """The whole train pipeline (after loading) on a 300x400 image with
    boxes: every output either has its shorter side at one of the 11
    scales 480..800 (step 32) or its longer side at the 1333 cap, never
    more than 1333; both flip states occur; boxes stay inside the image."""
    from mmdet.structures.bbox import HorizontalBoxes
    from mmengine.dataset import Compose
    steps = [
        t for t in cfg.train_pipeline
        if t['type'] not in ('LoadImageFromFile', 'LoadAnnotations')
    ]
    pipeline = Compose(steps)
    scales = set(range(480, 801, 32))
    flips, sizes = set(), set()
    for seed in range(30):
        np.random.seed(seed)
        out = pipeline(
            dict(
                img=np.random.randint(0, 255, (300, 400, 3), np.uint8),
                img_shape=(300, 400),
                ori_shape=(300, 400),
                img_id=0,
                img_path='a.jpg',
                gt_bboxes=HorizontalBoxes(
                    np.array([[50., 40., 350., 260.]], np.float32)),
                gt_bboxes_labels=np.array([0]),
                gt_ignore_flags=np.array([False])))
        sample = out['data_samples']
        h, w = out['inputs'].shape[-2:]
        assert (h, w) == sample.img_shape
        assert max(h, w) <= 1333
        assert min(h, w) in scales or abs(max(h, w) - 1333) <= 1, (h, w)
        boxes = sample.gt_instances.bboxes.tensor
        assert len(boxes) >= 1  # the crop keeps part of the large box
        assert (boxes[:, 0::2] >= 0).all() and (boxes[:, 0::2] <= w).all()
        assert (boxes[:, 1::2] >= 0).all() and (boxes[:, 1::2] <= h).all()
        flips.add(sample.flip)
        sizes.add((h, w))
    assert flips == {True, False}
    assert len(sizes) > 5


def test_crop_branch_resize_has_no_long_side_cap(cfg):
    """Reference: RandomResize([400, 500, 600]) (no max_size) before the
    crop; the plain branch caps the long side at 1333."""
    choice = by_type(cfg.train_pipeline, 'RandomChoice')
    plain_branch, crop_branch = choice.transforms
    # a 1:4 image: 400..600 short side -> 1600..2400 long side, uncapped
    shapes = {resize(crop_branch[0], 100, 400, seed) for seed in range(20)}
    assert shapes == {(400, 1600), (500, 2000), (600, 2400)}
    # plain branch: the same image is capped at 1333
    shapes = {resize(plain_branch[0], 100, 400, seed) for seed in range(5)}
    assert shapes == {(333, 1333)}


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

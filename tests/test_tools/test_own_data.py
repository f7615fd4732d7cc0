"""A user's own data: the example configs train on generated folders.

Each test builds mmengine's Runner from one of the own-data example configs
exactly as shipped, with the overrides a quick run needs (data root, 64x64
inputs, two iterations, batch 2, no ImageNet/torchvision weights), trains,
validates, and checks that the losses and metrics are finite and that the
model, the dataset and the predictions have the user's classes.
"""
import json
import math
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from tests.conftest import CONFIG_ROOT, load_tool

BINARY = osp.join(CONFIG_ROOT, 'transfuse',
                  'transfuse-s_r34-deit-s_1xb16-30e_custom-binary-352x352.py')
MULTICLASS = osp.join(
    CONFIG_ROOT, 'transfuse',
    'transfuse-s_r34-deit-s_1xb8-4k_custom-multiclass-512x512.py')
COCO = osp.join(CONFIG_ROOT, 'smca_detr',
                'smca-detr_r50_8xb2-50e_custom-coco.py')
SIZE = 64
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def write_seg_tree(root: str, num_classes: int, encoding: str,
                   num_train: int = 4, num_val: int = 2,
                   seed: int = 0) -> None:
    """images/<name>.png, masks/<name>.png, splits/{train,val}.txt.

    Each image shows one bright disc per foreground class on noise; the
    mask holds class ids (``encoding='ids'``) or 0/255 (``'0/255'``,
    binary only).
    """
    rng = np.random.default_rng(seed)
    names = [f'case{i:02d}' for i in range(num_train + num_val)]
    for sub in ('images', 'masks', 'splits'):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    for name in names:
        img = rng.integers(0, 60, (40, 48, 3), dtype=np.uint8)
        mask = np.zeros((40, 48), np.uint8)
        for c in range(1, num_classes):
            cy, cx = rng.integers(10, 30), rng.integers(10, 38)
            disc = np.zeros_like(mask)
            cv2.circle(disc, (int(cx), int(cy)), 7, 1, -1)
            mask[disc == 1] = c
            img[disc == 1] = (80 * c, 200, 255 - 60 * c)
        if encoding == '0/255':
            assert num_classes == 2
            mask = mask * 255
        assert cv2.imwrite(osp.join(root, 'images', name + '.png'), img)
        assert cv2.imwrite(osp.join(root, 'masks', name + '.png'), mask)
    for split, part in (('train', names[:num_train]),
                        ('val', names[num_train:])):
        with open(osp.join(root, 'splits', split + '.txt'), 'w') as f:
            f.write('\n'.join(part) + '\n')


def shrink_pipeline(steps: list, prefix: str) -> dict:
    """cfg-options that make every resize / crop of a pipeline tiny."""
    options = {}
    for i, step in enumerate(steps):
        key, kind = f'{prefix}.{i}', step['type']
        if kind in ('Resize', 'RandomResize'):
            options[f'{key}.scale'] = (SIZE, SIZE)
        elif kind == 'RandomChoiceResize':
            shortest = step.get('resize_type') == 'ResizeShortestEdge'
            options[f'{key}.scales'] = [SIZE] if shortest else [(SIZE, SIZE)]
        elif kind == 'RandomCrop':
            options[f'{key}.crop_size'] = (SIZE // 2, SIZE * 3 // 4)
        elif kind == 'RandomChoice':
            for j, branch in enumerate(step['transforms']):
                options.update(
                    shrink_pipeline(branch, f'{key}.transforms.{j}'))
    return options


def quick_run_options(cfg: Config, data_root: str, work_dir: str) -> dict:
    """Data root, 64x64, batch 2, no workers, no pretrained weights."""
    options = {'work_dir': work_dir}
    for loader in LOADERS:
        options.update({
            f'{loader}.batch_size': 2,
            f'{loader}.num_workers': 0,
            f'{loader}.persistent_workers': False,
            f'{loader}.dataset.data_root': data_root,
        })
        options.update(
            shrink_pipeline(cfg[loader].dataset.pipeline,
                            f'{loader}.dataset.pipeline'))
    if cfg.model.data_preprocessor.get('size') is not None:
        options['model.data_preprocessor.size'] = (SIZE, SIZE)
    # the paper configs start from ImageNet weights: not fetched here
    if cfg.default_scope == 'mmseg':
        options['model.backbone.cnn.init_cfg'] = None
        options['model.backbone.global_branch.init_cfg'] = None
    else:
        options['model.backbone.init_cfg'] = None
    return options


def train_and_validate(config: str, options: dict, loop: dict):
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(options)
    cfg.merge_from_dict(loop)
    torch.manual_seed(0)
    runner = Runner.from_cfg(cfg)
    runner.train()  # validates at the end of the two iterations
    scalars = runner.message_hub.log_scalars
    losses = {
        k: v.current()
        for k, v in scalars.items() if k.startswith('train/loss')
    }
    metrics = {
        k[len('val/'):]: v.current()
        for k, v in scalars.items() if k.startswith('val/')
    }
    return runner, losses, metrics


def _finite(values: dict) -> bool:
    return bool(values) and all(math.isfinite(v) for v in values.values())


@pytest.fixture(scope='module')
def binary_root(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('own_binary'))
    write_seg_tree(root, num_classes=2, encoding='0/255')
    return root


def test_binary_config_trains_on_0_255_masks(binary_root, tmp_path):
    cfg = Config.fromfile(BINARY)
    # one epoch of 4 images in batches of 2: two iterations
    runner, losses, metrics = train_and_validate(
        BINARY, quick_run_options(cfg, binary_root, str(tmp_path)),
        {'train_cfg.max_epochs': 1, 'default_hooks.checkpoint.interval': -1,
         'default_hooks.checkpoint.save_best': None})
    assert runner.iter == 2
    assert _finite(losses) and 'train/loss' in losses
    assert _finite(metrics) and 0 <= metrics['mDice'] <= 1
    assert metrics['num_images'] == 2
    val_set = runner.val_dataloader.dataset
    assert val_set.metainfo['classes'] == ('background', 'lesion')
    # the 0/255 masks reach the model as 0/1 class ids, disc pixels as 1
    sample = val_set[0]['data_samples']
    mask = cv2.imread(osp.join(binary_root, 'masks', 'case04.png'), 0)
    np.testing.assert_array_equal(sample.gt_sem_seg.data[0].numpy(),
                                  (mask == 255).astype(np.uint8))
    # binary head: one logit, a 0/1 label map
    model = runner.model
    model.eval()
    with torch.no_grad():
        pred = model.test_step(
            next(iter(runner.val_dataloader)))[0]
    assert pred.seg_logits.data.shape[0] == 1
    assert set(pred.pred_sem_seg.data.unique().tolist()) <= {0, 1}


def test_binary_config_reads_0_1_and_0_255_masks_alike(binary_root,
                                                       tmp_path):
    init_default_scope('mmseg')
    from mmseg.registry import DATASETS
    ids_root = str(tmp_path / 'ids')
    write_seg_tree(ids_root, num_classes=2, encoding='ids')  # same discs
    cfg = Config.fromfile(BINARY)
    for loader in ('train_dataloader', 'val_dataloader'):
        # the config's own loading steps, without the augmentation
        steps = [
            s for s in cfg[loader].dataset.pipeline
            if s['type'] in ('LoadImageFromFile', 'CheckedLoadImageFromFile',
                             'CheckedLoadAnnotations')
        ] + [dict(type='PackSegInputs')]
        masks = []
        for root in (binary_root, ids_root):
            ds_cfg = cfg[loader].dataset.copy()
            ds_cfg.update(data_root=root, pipeline=steps)
            masks.append(DATASETS.build(ds_cfg)[0]['data_samples']
                         .gt_sem_seg.data[0].numpy())
        name = 'case00' if loader == 'train_dataloader' else 'case04'
        disc = cv2.imread(osp.join(ids_root, 'masks', name + '.png'), 0)
        assert set(np.unique(disc).tolist()) == {0, 1}
        np.testing.assert_array_equal(masks[0], disc)
        np.testing.assert_array_equal(masks[1], disc)


@pytest.fixture(scope='module')
def multiclass_root(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('own_multiclass'))
    write_seg_tree(root, num_classes=3, encoding='ids', seed=1)
    return root


def test_multiclass_config_trains_on_class_id_masks(multiclass_root,
                                                    tmp_path):
    cfg = Config.fromfile(MULTICLASS)
    runner, losses, metrics = train_and_validate(
        MULTICLASS, quick_run_options(cfg, multiclass_root, str(tmp_path)),
        {'train_cfg.max_iters': 2, 'train_cfg.val_interval': 2,
         'default_hooks.checkpoint.interval': -1})
    assert runner.iter == 2
    assert _finite(losses)
    # per-class Dice for the config's own foreground classes
    dice = {k: v for k, v in metrics.items() if k.startswith('mDice')}
    assert set(dice) == {'mDice', 'mDice.liver', 'mDice.kidney'}
    assert _finite(dice) and all(0 <= v <= 1 for v in dice.values())
    classes = ('background', 'liver', 'kidney')
    assert runner.val_dataloader.dataset.metainfo['classes'] == classes
    model = runner.model
    model.eval()
    with torch.no_grad():
        pred = model.test_step(next(iter(runner.val_dataloader)))[0]
    assert pred.seg_logits.data.shape[0] == 3  # one logit per class
    assert int(pred.pred_sem_seg.data.max()) < 3


def test_multiclass_config_refuses_0_255_masks(binary_root):
    init_default_scope('mmseg')
    from mmseg.registry import DATASETS
    cfg = Config.fromfile(MULTICLASS)
    ds_cfg = cfg.val_dataloader.dataset.copy()
    ds_cfg.data_root = binary_root
    with pytest.raises(ValueError, match=r"case04.png holds only 0 and 255"
                       r".*class ids 0..2"):
        DATASETS.build(ds_cfg)[0]


@pytest.fixture(scope='module')
def coco_root(tmp_path_factory) -> str:
    """4 train + 2 val images, 2 classes renamed to the config's own."""
    root = str(tmp_path_factory.mktemp('own_coco'))
    load_tool('dataset_generators/generate_synthetic_shapes.py').generate(
        root, num_train=4, num_val=2, size=64, seed=0, num_classes=2,
        objects=(1, 2))
    for split in ('train', 'val'):
        path = osp.join(root, 'annotations', f'instances_{split}.json')
        with open(path) as f:
            coco = json.load(f)
        names = {'circle': 'ball', 'square': 'crate'}
        for cat in coco['categories']:
            cat['name'] = names[cat['name']]
        with open(path, 'w') as f:
            json.dump(coco, f)
    return root


def test_smca_config_trains_on_a_coco_json_of_own_classes(coco_root,
                                                         tmp_path):
    cfg = Config.fromfile(COCO)
    options = quick_run_options(cfg, coco_root + '/', str(tmp_path))
    ann = osp.join(coco_root, 'annotations', 'instances_val.json')
    options.update({
        'val_evaluator.ann_file': ann,
        'test_evaluator.ann_file': ann,
        'train_cfg.max_epochs': 1,
        'default_hooks.checkpoint.interval': -1,
    })
    runner, losses, metrics = train_and_validate(COCO, options, {})
    assert runner.iter == 2
    assert _finite(losses) and losses['train/loss'] > 0
    assert 'coco/bbox_mAP' in metrics
    assert all(-1 <= v <= 1 for k, v in metrics.items()
               if k.startswith('coco/'))
    assert runner.train_dataloader.dataset.metainfo['classes'] == ('ball',
                                                                  'crate')
    head = runner.model.bbox_head
    assert head.num_classes == 2 and head.fc_cls.out_features == 2
    runner.model.eval()
    with torch.no_grad():
        pred = runner.model.test_step(next(iter(runner.val_dataloader)))[0]
    assert int(pred.pred_instances.labels.max()) < 2

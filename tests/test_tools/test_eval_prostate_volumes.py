"""Whole-volume prostate evaluation tool: same predictions as the slices."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine import Config
from mmengine.dataset import pseudo_collate
from mmseg.apis import init_model
from mmseg.registry import DATASETS

from mmplugin_transfuse.seg.datasets import ProstateSliceDataset
from mmplugin_transfuse.data_prep.msd import load_case, volume_to_uint8
from mmplugin_transfuse.seg.evaluation import (confusion_counts,
                                               dice_from_counts)
from tests.conftest import CONFIG_ROOT, load_tool
from tests.test_seg.test_datasets.fake_trees import (make_msd_prostate_tree,
                                                     point_dataset_to)

CONFIG = osp.join(CONFIG_ROOT, 'transfuse',
                  'transfuse-s_r34-deit-s_1xb16-5k_prostate-msd-320x320.py')


def test_eval_prostate_volumes_matches_slice_evaluation(tmp_path):
    src, out = str(tmp_path / 'Task05_Prostate'), str(tmp_path / 'prostate')
    volumes = make_msd_prostate_tree(src, depths=(3, 2), shape_xy=(12, 10))
    load_tool('dataset_converters/prostate_msd.py').main(
        [src, '--out', out, '--val-ratio', '0.5'])
    # 32x32 and one ViT block keep CPU time low (the volume assembly and
    # the metrics do not depend on the model's size)
    small = ['test_pipeline.2.scale=(32,32)',
             'model.backbone.global_branch.depth=1']

    torch.manual_seed(0)
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict({'test_pipeline.2.scale': (32, 32),
                         'model.backbone.global_branch.depth': 1})
    model = init_model(cfg, None, device='cpu')
    ckpt = str(tmp_path / 'random.pth')
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(dataset_meta=ProstateSliceDataset.METAINFO)), ckpt)

    report = load_tool('eval_prostate_volumes.py').main([
        CONFIG, ckpt, '--msd-root', src, '--device', 'cpu', '--surface',
        '--volumes', 'prostate_00', 'prostate_01', '--batch-size', '2',
        '--warmup', '0',
        '--out', str(tmp_path / 'r.json'), '--cfg-options'
    ] + small)
    assert report['summary']['num_volumes'] == 2
    for r in report['volumes'].values():
        assert r['infer_s'] > 0 and r['total_s'] >= r['infer_s']
        assert set(r['surface']['PZ']) == {'HD95', 'HDmax', 'ASD'}
    with open(tmp_path / 'r.json') as f:
        assert json.load(f)['summary']['mean_dice'] == pytest.approx(
            report['summary']['mean_dice'])

    # the converted slices through the config's own test pipeline give the
    # same predictions, hence the same per-volume Dice
    ds_cfg = point_dataset_to(cfg.test_dataloader.dataset.copy(), out)
    ds_cfg.ann_file = ''  # every converted slice
    ds_cfg.pipeline = cfg.test_pipeline
    dataset = DATASETS.build(ds_cfg)
    preds = {}
    with torch.no_grad():
        for i in range(len(dataset)):
            sample = model.test_step(pseudo_collate([dataset[i]]))[0]
            preds.setdefault(sample.volume_id, {})[sample.slice_idx] = (
                sample.pred_sem_seg.data[0].numpy())
    tool = load_tool('eval_prostate_volumes.py')
    pipeline, channels = tool.build_slice_pipeline(cfg)
    assert channels == (0, 1, 0)
    for vol, r in report['volumes'].items():
        pred = np.stack([preds[vol][z] for z in sorted(preds[vol])], -1)
        assert pred.shape == volumes[vol]['label'].shape
        image = load_case(src, dict(
            image=f'imagesTr/{vol}.nii.gz', label=f'labelsTr/{vol}.nii.gz'),
            2, [0, 1, 2])[0]
        direct = tool.predict_volume(model, pipeline,
                                     volume_to_uint8(image), channels, 0)
        np.testing.assert_array_equal(direct, pred)
        dice = dice_from_counts(
            confusion_counts(pred, volumes[vol]['label'], [1, 2]))
        assert [r['dice']['PZ'], r['dice']['TZ']] == pytest.approx(dice)


def test_eval_prostate_volumes_unknown_volume(tmp_path):
    src = str(tmp_path / 'Task05_Prostate')
    make_msd_prostate_tree(src, depths=(2, ))
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.global_branch.depth = 1  # any weights will do
    model = init_model(cfg, None, device='cpu')
    ckpt = str(tmp_path / 'random.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)
    with pytest.raises(KeyError, match='prostate_99'):
        load_tool('eval_prostate_volumes.py').main([
            CONFIG, ckpt, '--msd-root', src, '--device', 'cpu',
            '--volumes', 'prostate_99', '--cfg-options',
            'model.backbone.global_branch.depth=1'
        ])

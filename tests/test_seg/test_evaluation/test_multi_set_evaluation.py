"""One test run over the five PraNet test sets prints a per-set table.

Builds mmengine's Runner from the real TransFuse-S polyp config (random
weights) on a converted fake PraNet tree and runs its test loop, the code
path of ``mim test`` / ``tools/test.py``.
"""
import glob
import os.path as osp

import pytest
from mmengine import Config
from mmengine.runner import Runner

from tests.conftest import CONFIG_ROOT, load_tool
from tests.test_seg.test_datasets.fake_trees import (PRANET_TEST_SETS,
                                                     make_pranet_tree,
                                                     point_dataset_to)

CONFIG = osp.join(CONFIG_ROOT, 'transfuse',
                  'transfuse-s_r34-deit-s_1xb16-30e_polyp-352x352.py')


def _shrink(pipeline, scale=(64, 64)):
    for t in pipeline:
        if t['type'] == 'Resize':
            t['scale'] = scale


def test_polyp_config_evaluates_five_sets_in_one_run(tmp_path):
    src, out = str(tmp_path / 'PraNet'), str(tmp_path / 'polyp')
    make_pranet_tree(src, num_train=1, num_test=(2, 1, 1, 1, 2))
    load_tool('dataset_converters/polyp_pranet.py').main(
        [src, '--out', out])
    cfg = Config.fromfile(CONFIG)
    # the per-set reporting does not depend on the depth: one block
    cfg.model.backbone.global_branch.depth = 1
    cfg.work_dir = str(tmp_path / 'work')
    loader = cfg.test_dataloader
    point_dataset_to(loader.dataset, out)
    loader.num_workers, loader.persistent_workers = 0, False
    # one pipeline for the five sets; 64x64 keeps TransFuse-S fast on CPU
    _shrink(loader.dataset.pipeline)
    cfg.val_dataloader = loader
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()

    assert metrics['num_images'] == 7
    for name, num in zip(PRANET_TEST_SETS, (2, 1, 1, 1, 2)):
        assert metrics[f'{name}/num_images'] == num
        assert 0 <= metrics[f'{name}/mDice'] <= 1
        assert 0 <= metrics[f'{name}/mIoU'] <= metrics[f'{name}/mDice']
    pooled = sum(metrics[f'{n}/mDice'] * metrics[f'{n}/num_images']
                 for n in PRANET_TEST_SETS) / 7
    assert metrics['mDice'] == pytest.approx(pooled)
    log = glob.glob(osp.join(cfg.work_dir, '*', '*.log'))[0]
    with open(log) as f:
        text = f.read()
    table = text[text.index('per-image segmentation metrics'):]
    rows = [[c.strip() for c in line.strip().strip('|').split('|')]
            for line in table.splitlines() if line.startswith('|')]
    assert rows[0] == [
        'set', 'images', 'mDice', 'mIoU', 'dataset_Dice', 'dataset_IoU'
    ]
    assert [r[0] for r in rows[1:]] == list(PRANET_TEST_SETS) + ['all']
    for row in rows[1:-1]:
        assert float(row[2]) == pytest.approx(
            metrics[f'{row[0]}/mDice'], abs=5e-5)
    assert float(rows[-1][2]) == pytest.approx(metrics['mDice'], abs=5e-5)

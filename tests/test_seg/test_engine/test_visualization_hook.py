"""``tools/test.py --show-dir`` on the five PraNet sets: one file per image.

The sets' images share file names (CVC-ClinicDB, CVC-ColonDB and ETIS all
start at ``1.png``); ``SubsetSegVisualizationHook`` writes each drawing to
``<show-dir>/<subset>/<name>``.
"""
import os
import os.path as osp

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmplugin_transfuse.seg.engine import SubsetSegVisualizationHook
from tests.conftest import CONFIG_ROOT, load_tool
from tests.test_seg.test_datasets.fake_trees import (PRANET_TEST_SETS,
                                                     make_pranet_tree)

CONFIG = osp.join(CONFIG_ROOT, 'transfuse',
                  'transfuse-s_r34-deit-s_1xb16-30e_polyp-352x352.py')
# 64x64 inputs and one ViT block keep the 15 forward passes short; the hook
# is the one the seg configs are meant to name
OPTIONS = {
    'model.backbone.global_branch.depth': 1,
    'model.data_preprocessor.size': (64, 64),
    'test_dataloader.dataset.pipeline.1.scale': (64, 64),
    'test_dataloader.num_workers': 0,
    'test_dataloader.persistent_workers': False,
    'default_hooks.visualization.type': 'SubsetSegVisualizationHook',
}


def _cli(options: dict) -> list:
    return [
        f'{k}=({v[0]},{v[1]})' if isinstance(v, tuple) else f'{k}={v}'
        for k, v in options.items()
    ]


def test_show_dir_writes_every_image_of_the_five_sets(tmp_path):
    src, data = str(tmp_path / 'PraNet'), str(tmp_path / 'polyp')
    make_pranet_tree(src, num_train=1, num_test=(3, ) * 5, size=(20, 24),
                     numbered=True)
    load_tool('dataset_converters/polyp_pranet.py').main([src, '--out', data])
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(OPTIONS)
    init_default_scope('mmseg')
    from mmseg.registry import MODELS
    torch.manual_seed(0)
    ckpt = str(tmp_path / 'model.pth')
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict()), ckpt)

    show_dir = tmp_path / 'show'
    # mmengine keeps one visualizer per name in the process: a fresh one
    # here, not one an earlier Runner or Inferencer set up
    options = dict(OPTIONS, **{'visualizer.name': f'vis_{tmp_path.name}'})
    roots = [f'test_dataloader.dataset.datasets.{i}.data_root={data}'
             for i in range(len(PRANET_TEST_SETS))]
    load_tool('test.py').main([
        CONFIG, ckpt, '--show-dir', str(show_dir), '--work-dir',
        str(tmp_path / 'work'), '--cfg-options'
    ] + _cli(options) + roots)

    drawn = sorted(
        osp.relpath(osp.join(d, f), show_dir)
        for d, _, files in os.walk(show_dir) for f in files
        if f.endswith('.png'))
    assert drawn == sorted(
        osp.join(name, f'{k}.png') for name in PRANET_TEST_SETS
        for k in (1, 2, 3))
    # each file is the drawing of its own set's image: on the left panel
    # the image's background pixels are blended with black at opacity 0.8
    # (SegLocalVisualizer), i.e. 0.2 x the image (label text aside)
    def match(panel, name):
        img = cv2.imread(osp.join(data, name, 'images', '1.png')).astype(int)
        background = cv2.imread(
            osp.join(data, name, 'masks', '1.png'), cv2.IMREAD_GRAYSCALE) == 0
        close = np.abs(panel.astype(int) - img * 0.2) <= 1
        return close.all(-1)[background].mean()

    for name in PRANET_TEST_SETS:
        panel = cv2.imread(str(show_dir / name / '1.png'))[:, :24]
        assert panel.shape == (20, 24, 3)
        assert match(panel, name) > 0.7
        assert all(match(panel, other) < 0.3 for other in PRANET_TEST_SETS
                   if other != name)


def test_names_and_folders_of_the_drawings(tmp_path):
    hook = SubsetSegVisualizationHook(draw=True, interval=1,
                                      test_out_dir='vis')

    class FakeRunner:
        work_dir, timestamp = str(tmp_path), '20260101_000000'

    hook.before_test(FakeRunner())
    assert hook.test_out_dir == osp.join(str(tmp_path), '20260101_000000',
                                         'vis')
    hook = SubsetSegVisualizationHook(test_out_dir=str(tmp_path / 'abs'))
    hook.before_test(FakeRunner())
    assert hook.test_out_dir == str(tmp_path / 'abs')

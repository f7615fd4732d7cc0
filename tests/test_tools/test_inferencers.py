"""mmseg's MMSegInferencer and mmdet's DetInferencer run the package configs."""
import glob
import os.path as osp

import numpy as np

from tests.conftest import CONFIG_ROOT


def _one(pattern: str) -> str:
    found = glob.glob(osp.join(CONFIG_ROOT, pattern))
    assert len(found) == 1, (pattern, found)
    return found[0]


def test_mmseg_inferencer_on_transfuse_config(tmp_path):
    from mmseg.apis import MMSegInferencer
    config = _one('transfuse/transfuse-s_r34-deit-s_1xb8-*_synthetic-polyp-'
                  '128x128.py')
    inferencer = MMSegInferencer(model=config, weights=None, device='cpu')
    img = np.random.default_rng(0).integers(0, 255, (100, 120, 3),
                                            dtype=np.uint8)
    out = inferencer(img, out_dir=str(tmp_path), return_datasamples=True)
    # binary head: a 0/1 mask at the input's own size
    mask = out.pred_sem_seg.data
    assert tuple(mask.shape) == (1, 100, 120)
    assert set(mask.unique().tolist()) <= {0, 1}


def test_det_inferencer_on_smca_config(tmp_path):
    from mmdet.apis import DetInferencer
    config = _one('smca_detr/smca-detr_r18_1xb8-*_synthetic-shapes-160x160.py')
    inferencer = DetInferencer(model=config, weights=None, device='cpu')
    img = np.random.default_rng(0).integers(0, 255, (96, 128, 3),
                                            dtype=np.uint8)
    out = inferencer(img, return_datasamples=True, no_save_vis=True)
    pred = out['predictions'][0].pred_instances
    assert len(pred.bboxes) == len(pred.scores) > 0
    assert pred.bboxes.shape[1] == 4
    # boxes are mapped back to the input image (w=128, h=96)
    assert float(pred.bboxes[:, [0, 2]].max()) <= 128 + 1e-3
    assert float(pred.bboxes[:, [1, 3]].max()) <= 96 + 1e-3

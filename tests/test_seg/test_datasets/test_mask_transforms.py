"""binarize_mask / BinarizeMask share one rule; SoftMask (reference masks)."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine import Config
from mmengine.registry import init_default_scope

from mmplugin_transfuse.seg.datasets import (BinarizeMask, SoftMask,
                                             binarize_mask)
from mmseg.registry import MODELS, TRANSFORMS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(__file__))))
SOFT_CFG = osp.join(
    REPO, 'configs', 'transfuse',
    'transfuse-s-softmask_r34-deit-s_1xb16-30e_isic2017-192x256.py')


@pytest.mark.parametrize('mask,expected', [
    ([[0, 127, 128, 255]], [[0, 0, 1, 1]]),
    # 0/1 masks already hold class ids: kept by both (no silent erasure)
    ([[0, 1, 1, 0]], [[0, 1, 1, 0]]),
    ([[0, 2, 200, 255]], [[0, 0, 1, 1]]),
    ([[0, 0, 0, 0]], [[0, 0, 0, 0]]),
])
def test_function_and_transform_agree(mask, expected):
    mask = np.array(mask, np.uint8)
    np.testing.assert_array_equal(binarize_mask(mask), expected)
    out = BinarizeMask()(dict(gt_seg_map=mask.copy()))['gt_seg_map']
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.uint8


def test_soft_mask_is_the_reference_bilinear_resize():
    mask = np.zeros((40, 60), np.uint8)
    mask[11:28, 17:42] = 255
    out = SoftMask(scale=(32, 24))(dict(gt_seg_map=mask))['gt_seg_map']
    # the reference's process.py: cv2.resize (bilinear) of the 0/255 mask
    expected = cv2.resize(mask, (32, 24))
    assert out.shape == (24, 32) and out.dtype == np.uint8
    np.testing.assert_allclose(out.astype(int), expected.astype(int), atol=1)
    values = set(np.unique(out).tolist())
    assert values - {0, 255}, 'boundary pixels must be soft'
    # an already binarised 0/1 map is scaled to 0/255 first
    ids = (mask > 0).astype(np.uint8)
    out = SoftMask()(dict(gt_seg_map=ids))['gt_seg_map']
    np.testing.assert_array_equal(out, mask)


def test_softmask_config_trains_on_soft_targets():
    cfg = Config.fromfile(SOFT_CFG)
    init_default_scope('mmseg')
    pipeline = cfg.train_dataloader.dataset.pipeline
    assert [t['type'] for t in pipeline][3] == 'SoftMask'
    assert cfg.model.data_preprocessor.seg_pad_val == 0
    rotate = [t for t in pipeline if t['type'] == 'RandomRotate'][0]
    assert rotate['seg_pad_val'] == 0
    TRANSFORMS.build(pipeline[3])
    # the three losses divide the target by 255 and ignore nothing
    cfg.model.backbone.global_branch.depth = 1
    model = MODELS.build(cfg.model)
    assert all(loss.soft_target for loss in model.decode_head.loss_decode)
    torch.manual_seed(0)
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    samples = []
    for _ in range(2):
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=torch.randint(0, 256, (1, 32, 32)))
        s.set_metainfo(
            dict(img_shape=(32, 32), pad_shape=(32, 32), ori_shape=(32, 32)))
        samples.append(s)
    model.train()
    losses = model.loss(torch.randn(2, 3, 32, 32), samples)
    assert torch.isfinite(losses['decode.loss_fused'])
    assert 0 <= losses['decode.acc_seg'] <= 100

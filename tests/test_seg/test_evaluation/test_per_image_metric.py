"""PerImageDiceMetric against hand-computed per-image values."""
import numpy as np
import pytest
from mmengine.registry import init_default_scope

from mmseg.registry import METRICS
from .helpers import run_metric, sample


def _images():
    gt_a = np.zeros((4, 4), int)
    gt_a[:2, :2] = 1  # 4 pixels
    pred_a = np.zeros((4, 4), int)
    pred_a[0, :3] = 1  # 3 pixels, 2 of them right
    gt_c = np.zeros((4, 4), int)
    gt_c[3, :2] = 1
    return [
        sample(pred_a, gt_a, subset='X'),  # Dice 4/7, IoU 2/5, acc 13/16
        sample(np.zeros((4, 4)), np.zeros((4, 4)), subset='X'),  # empty
        sample(np.zeros((4, 4)), gt_c, subset='Y'),  # missed: 0, acc 14/16
    ]


def test_per_image_dice_iou_acc_and_groups():
    init_default_scope('mmseg')
    metric = METRICS.build(
        dict(
            type='PerImageDiceMetric',
            metric_names=['mDice', 'mIoU', 'mAcc']))
    res = run_metric(metric, _images())
    assert res['mDice'] == pytest.approx((4 / 7 + 1 + 0) / 3)
    assert res['mIoU'] == pytest.approx((2 / 5 + 1 + 0) / 3)
    assert res['mAcc'] == pytest.approx((13 / 16 + 1 + 14 / 16) / 3)
    # dataset level: I=2, P=3, G=6 summed over the images
    assert res['dataset_Dice'] == pytest.approx(4 / 9)
    assert res['dataset_IoU'] == pytest.approx(2 / 7)
    assert res['X/mDice'] == pytest.approx((4 / 7 + 1) / 2)
    assert res['X/mIoU'] == pytest.approx((2 / 5 + 1) / 2)
    assert res['Y/mDice'] == 0 and res['Y/num_images'] == 1
    assert res['num_images'] == 3


def test_per_image_empty_score_none_excludes_empty_images():
    metric = METRICS.build(
        dict(type='PerImageDiceMetric', empty_score=None, group_key=None))
    res = run_metric(metric, _images())
    assert res['mDice'] == pytest.approx((4 / 7 + 0) / 2)
    assert not any('/' in k for k in res)  # no groups


def test_per_image_ignore_index():
    gt = np.array([[1, 255], [0, 0]])
    pred = np.array([[1, 1], [1, 0]])  # the 255 pixel is not counted
    metric = METRICS.build(dict(type='PerImageDiceMetric'))
    res = run_metric(metric, [sample(pred, gt, subset='Kvasir')])
    assert res['mDice'] == pytest.approx(2 / 3)  # I=1, P=2, G=1


def test_per_image_multiclass_per_class_keys():
    gt = np.array([[1, 1, 2, 0]])
    pred = np.array([[1, 2, 2, 0]])
    metric = METRICS.build(dict(type='PerImageDiceMetric', group_key=None))
    res = run_metric(
        metric, [sample(pred, gt)], classes=('bg', 'pelvis', 'femur'))
    # pelvis: I=1 P=1 G=2 -> 2/3 ; femur: I=1 P=2 G=1 -> 2/3
    assert res['mDice.pelvis'] == pytest.approx(2 / 3)
    assert res['mDice.femur'] == pytest.approx(2 / 3)
    assert res['mIoU.pelvis'] == pytest.approx(1 / 2)
    assert res['mDice'] == pytest.approx(2 / 3)
    metric = METRICS.build(
        dict(type='PerImageDiceMetric', class_indices=[2], group_key=None))
    res = run_metric(
        metric, [sample(pred, gt)], classes=('bg', 'pelvis', 'femur'))
    assert res['mDice'] == pytest.approx(2 / 3) and 'mDice.femur' not in res


def test_per_image_bad_arguments():
    with pytest.raises(ValueError, match='mFoo'):
        METRICS.build(
            dict(type='PerImageDiceMetric', metric_names=['mFoo']))
    metric = METRICS.build(
        dict(type='PerImageDiceMetric', class_indices=[5]))
    with pytest.raises(ValueError, match='class_indices'):
        run_metric(metric, _images())


def test_medical_metrics_share_the_class_selection():
    """One base class resolves the evaluated classes for the three metrics
    (not three copies): the same class_indices give the same ids and the
    same out-of-range error."""
    from mmplugin_transfuse.seg.evaluation import (MedicalSegMetric,
                                                   PerImageDiceMetric,
                                                   PerVolumeDiceMetric,
                                                   SurfaceDistanceMetric)
    meta = dict(classes=('background', 'pz', 'tz'))
    for cls in (PerImageDiceMetric, PerVolumeDiceMetric,
                SurfaceDistanceMetric):
        assert issubclass(cls, MedicalSegMetric)
        assert '_class_ids' not in vars(cls)
        metric = cls(class_indices=[2])
        metric.dataset_meta = meta
        assert metric._class_ids() == [2]
        assert metric._class_names() == ['tz']
        metric = cls()
        metric.dataset_meta = meta
        assert metric._class_names() == ['pz', 'tz']
        metric = cls(class_indices=[3])
        metric.dataset_meta = meta
        with pytest.raises(ValueError, match=r'class_indices \[3\] are '
                           'outside the dataset classes'):
            metric._class_ids()

"""SurfaceDistanceMetric: HD95 / HDmax / ASD in mm, empty-mask behaviour."""
import numpy as np
import pytest
from mmengine.registry import init_default_scope

from mmseg.registry import METRICS

import mmplugin_transfuse  # noqa: F401  registers SurfaceDistanceMetric
from .helpers import run_metric, sample

CLASSES = ('background', 'a', 'b')


def _2d_samples():
    gt = np.zeros((3, 5), int)
    gt[0, 0] = gt[0, 4] = 1
    pred = np.zeros((3, 5), int)
    pred[0, 0] = 1
    empty = np.zeros((3, 5), int)
    return [
        sample(pred, gt, spacing=[1.0, 0.5]),  # HD95 1.8, HDmax 2, ASD 2/3
        sample(empty, gt, spacing=[1.0, 0.5]),  # prediction missed it
        sample(empty, empty, spacing=[1.0, 0.5]),  # both empty: 0
    ]


@pytest.fixture(autouse=True)
def mmseg_scope():
    # every test builds from mmseg's registry, whatever ran before it in
    # this worker
    init_default_scope('mmseg')


def test_surface_metric_2d_nan_policy():
    metric = METRICS.build(
        dict(type='SurfaceDistanceMetric', class_indices=[1]))
    res = run_metric(metric, _2d_samples(), CLASSES)
    # the empty prediction is left out; both-empty counts as 0 mm
    assert res['HDmax'] == pytest.approx((2.0 + 0.0) / 2)
    assert res['HD95'] == pytest.approx((1.8 + 0.0) / 2)
    assert res['ASD'] == pytest.approx((2 / 3 + 0.0) / 2)
    assert res['num_empty_pred'] == 1
    assert res['num_both_empty'] == 1
    assert res['num_empty_gt'] == 0


def test_surface_metric_2d_diagonal_policy():
    metric = METRICS.build(
        dict(
            type='SurfaceDistanceMetric',
            class_indices=[1],
            percentiles=[100],
            empty_policy='diagonal'))
    res = run_metric(metric, _2d_samples(), CLASSES)
    diag = np.sqrt((3 * 1.0)**2 + (5 * 0.5)**2)
    assert res['HDmax'] == pytest.approx((2.0 + diag + 0.0) / 3)
    assert 'HD95' not in res and res['num_empty_pred'] == 1


def test_surface_metric_all_undefined_is_nan_not_zero():
    gt = np.zeros((3, 3), int)
    gt[1, 1] = 1
    metric = METRICS.build(
        dict(type='SurfaceDistanceMetric', class_indices=[1]))
    res = run_metric(metric, [sample(np.zeros((3, 3)), gt, spacing=[1, 1])],
                     CLASSES)
    assert np.isnan(res['HD95']) and res['num_empty_pred'] == 1


def test_surface_metric_3d_volumes_use_slice_spacing():
    # volume v: gt voxel in slice 0, predicted voxel two slices further and
    # one column over; spacing (row, col, slice) = (0.5, 0.5, 3.0) mm
    def sl(idx, pred, gt):
        return sample(pred, gt, volume_id='v', slice_idx=idx,
                      spacing=[0.5, 0.5, 3.0])

    z = np.zeros((4, 4), int)
    g = z.copy()
    g[1, 1] = 2
    p = z.copy()
    p[1, 2] = 2
    slices = [sl(2, p, z), sl(0, z, g), sl(1, z, z)]
    metric = METRICS.build(
        dict(type='SurfaceDistanceMetric', volume_key='volume_id'))
    res = run_metric(metric, slices, CLASSES)
    expected = np.sqrt(6.0**2 + 0.5**2)
    assert res['HDmax.b'] == pytest.approx(expected)
    assert res['ASD.b'] == pytest.approx(expected)
    # class a is absent from both volumes: 0 mm, counted
    assert res['HDmax.a'] == 0 and res['num_both_empty'] == 1
    assert res['HDmax'] == pytest.approx(expected / 2)


def test_surface_metric_spacing_errors():
    gt = np.ones((2, 2), int)
    metric = METRICS.build(dict(type='SurfaceDistanceMetric'))
    with pytest.raises(KeyError, match='spacing.*default_spacing'):
        run_metric(metric, [sample(gt, gt)], CLASSES)
    metric = METRICS.build(
        dict(type='SurfaceDistanceMetric', default_spacing=[2.0, 2.0]))
    res = run_metric(metric, [sample(gt, gt)], CLASSES)
    assert res['HDmax.a'] == 0
    with pytest.raises(ValueError, match='empty_policy'):
        METRICS.build(dict(type='SurfaceDistanceMetric', empty_policy='zero'))
    with pytest.raises(ValueError, match='percentiles'):
        METRICS.build(dict(type='SurfaceDistanceMetric', percentiles=[0]))

"""PerVolumeDiceMetric: slices grouped by volume id, Dice per 3-D volume."""
import pytest
from mmengine.registry import init_default_scope

from mmseg.registry import METRICS

import mmplugin_transfuse  # noqa: F401  registers PerVolumeDiceMetric
from .helpers import run_metric, sample

CLASSES = ('background', 'PZ', 'TZ')


@pytest.fixture(autouse=True)
def mmseg_scope():
    # every test builds from mmseg's registry, whatever ran before it in
    # this worker
    init_default_scope('mmseg')


def _slices():
    # interleaved volumes, out of order: grouping must not rely on order
    return [
        sample([[1, 1, 0, 0]], [[1, 0, 0, 0]], volume_id='v1', slice_idx=1),
        sample([[0, 2, 2, 0]], [[0, 2, 2, 0]], volume_id='v2', slice_idx=0),
        sample([[1, 0, 2, 2]], [[1, 1, 2, 0]], volume_id='v1', slice_idx=0),
    ]


def test_per_volume_dice_hand_computed():
    metric = METRICS.build(dict(type='PerVolumeDiceMetric'))
    res = run_metric(metric, _slices(), CLASSES)
    # v1, PZ: I = 1 + 1, P = 1 + 2, G = 2 + 1 -> 4/6 ; TZ: I=1 P=2 G=1 -> 2/3
    # v2, PZ: absent from both -> 1 ; TZ: perfect -> 1
    assert res['Dice.PZ'] == pytest.approx((2 / 3 + 1) / 2)
    assert res['Dice.TZ'] == pytest.approx((2 / 3 + 1) / 2)
    assert res['mDice'] == pytest.approx(5 / 6)
    assert res['num_volumes'] == 2


def test_per_volume_dice_is_not_a_slice_mean():
    # one volume, two slices: per-slice Dice of PZ would be (1 + 0) / 2,
    # the volume's Dice is 2 * 4 / (4 + 5) = 8 / 9
    s0 = sample([[1, 1, 1, 1]], [[1, 1, 1, 1]], volume_id='v', slice_idx=0)
    s1 = sample([[0, 0, 0, 0]], [[1, 0, 0, 0]], volume_id='v', slice_idx=1)
    metric = METRICS.build(dict(type='PerVolumeDiceMetric', class_indices=[1]))
    res = run_metric(metric, [s0, s1], CLASSES)
    assert res['mDice'] == pytest.approx(8 / 9)


def test_per_volume_dice_empty_score_none():
    metric = METRICS.build(dict(type='PerVolumeDiceMetric', empty_score=None))
    res = run_metric(metric, _slices(), CLASSES)
    assert res['Dice.PZ'] == pytest.approx(2 / 3)  # v2 left out for PZ
    assert res['mDice'] == pytest.approx((2 / 3 + 5 / 6) / 2)


def test_per_volume_dice_needs_volume_id():
    metric = METRICS.build(dict(type='PerVolumeDiceMetric'))
    with pytest.raises(KeyError, match="'volume_id'.*meta_keys"):
        run_metric(metric, [sample([[1]], [[1]])], CLASSES)

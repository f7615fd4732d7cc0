"""Overlap and surface-distance functions against hand-computed values."""
import numpy as np
import pytest

from mmplugin_transfuse.seg.evaluation import (confusion_counts,
                                               dice_from_counts,
                                               iou_from_counts, mask_surface,
                                               surface_distance_measures,
                                               surface_distances)


def test_confusion_counts_and_ratios():
    gt = np.array([[1, 1, 0], [2, 255, 0]])
    pred = np.array([[1, 0, 1], [2, 1, 2]])
    counts = confusion_counts(pred, gt, [1, 2], ignore_index=255)
    # class 1: I=1 (0,0); P=2 ((0,0),(0,2); (1,1) is ignored); G=2
    # class 2: I=1; P=2; G=1
    np.testing.assert_array_equal(counts, [[1, 2, 2], [1, 2, 1]])
    np.testing.assert_allclose(dice_from_counts(counts), [2 / 4, 2 / 3])
    np.testing.assert_allclose(iou_from_counts(counts), [1 / 3, 1 / 2])


def test_empty_scores():
    counts = np.array([[0, 0, 0], [0, 3, 0], [0, 0, 2]])
    np.testing.assert_array_equal(dice_from_counts(counts), [1, 0, 0])
    np.testing.assert_array_equal(iou_from_counts(counts), [1, 0, 0])
    assert np.isnan(dice_from_counts(counts, empty_score=None)[0])
    with pytest.raises(ValueError, match='shape'):
        confusion_counts(np.zeros((2, 2)), np.zeros((2, 3)), [1])


def test_mask_surface_of_a_block():
    mask = np.zeros((5, 5), bool)
    mask[1:4, 1:4] = True
    expected = mask.copy()
    expected[2, 2] = False  # only the centre has all 4 neighbours inside
    np.testing.assert_array_equal(mask_surface(mask), expected)
    # touching the image edge: the edge closes the object
    full = np.ones((3, 3), bool)
    assert mask_surface(full).sum() == 8


def test_hd_asd_hand_computed_anisotropic():
    gt = np.zeros((3, 5), bool)
    gt[0, 0] = gt[0, 4] = True
    pred = np.zeros((3, 5), bool)
    pred[0, 0] = True
    spacing = (1.0, 0.5)  # (row, col) in mm
    d_pg, d_gp = surface_distances(pred, gt, spacing)
    np.testing.assert_allclose(d_pg, [0.0])
    np.testing.assert_allclose(sorted(d_gp), [0.0, 2.0])  # 4 cols * 0.5
    out, case = surface_distance_measures(pred, gt, spacing, (95, 100))
    assert case == 'valid'
    # pooled [0, 0, 2]: 95th percentile (linear) = 0 + 0.9 * 2
    assert out == pytest.approx(dict(HD95=1.8, HDmax=2.0, ASD=2 / 3))
    # the row spacing matters: move the prediction two rows down
    pred2 = np.zeros((3, 5), bool)
    pred2[2, 0] = True
    out, _ = surface_distance_measures(pred2, gt, spacing, (100, ))
    # pred->gt: 2 rows * 1.0 = 2; gt->pred: 2 and sqrt(2^2 + 2^2)
    assert out['HDmax'] == pytest.approx(np.sqrt(8))
    assert out['ASD'] == pytest.approx((2 + 2 + np.sqrt(8)) / 3)


def test_hd_3d_uses_slice_spacing():
    gt = np.zeros((3, 4, 4), bool)
    pred = np.zeros((3, 4, 4), bool)
    gt[0, 1, 1] = True
    pred[2, 1, 2] = True
    out, _ = surface_distance_measures(pred, gt, (3.0, 0.5, 0.5), (95, 100))
    expected = np.sqrt((2 * 3.0)**2 + 0.5**2)
    assert out == pytest.approx(
        dict(HD95=expected, HDmax=expected, ASD=expected))


def test_surface_distances_match_brute_force():
    rng = np.random.default_rng(0)
    pred = rng.random((12, 10)) > 0.6
    gt = rng.random((12, 10)) > 0.5
    spacing = (0.8, 1.7)

    def border(m):  # independent definition: a 4-neighbour outside m
        p = np.pad(m, 1)
        inner = p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:]
        return m & ~inner

    def points(m):
        return np.argwhere(border(m)) * np.array(spacing)

    pp, gg = points(pred), points(gt)
    dist = np.sqrt(((pp[:, None] - gg[None]) ** 2).sum(-1))
    d_pg, d_gp = surface_distances(pred, gt, spacing)
    np.testing.assert_allclose(np.sort(d_pg), np.sort(dist.min(1)))
    np.testing.assert_allclose(np.sort(d_gp), np.sort(dist.min(0)))
    out, _ = surface_distance_measures(pred, gt, spacing, (95, 100))
    pooled = np.concatenate([dist.min(1), dist.min(0)])
    assert out['HDmax'] == pytest.approx(max(dist.min(1).max(),
                                             dist.min(0).max()))
    assert out['HD95'] == pytest.approx(np.percentile(pooled, 95))
    assert out['ASD'] == pytest.approx(pooled.mean())


def test_surface_distance_empty_cases():
    empty = np.zeros((4, 4), bool)
    obj = np.zeros((4, 4), bool)
    obj[1, 1] = True
    out, case = surface_distance_measures(empty, empty, (1, 1))
    assert case == 'both_empty' and out == dict(HD95=0, HDmax=0, ASD=0)
    out, case = surface_distance_measures(empty, obj, (1, 1))
    assert case == 'empty_pred' and all(np.isnan(v) for v in out.values())
    out, case = surface_distance_measures(obj, empty, (1, 1),
                                          empty_value=7.5)
    assert case == 'empty_gt' and set(out.values()) == {7.5}
    with pytest.raises(ValueError, match='non-empty'):
        surface_distances(empty, obj, (1, 1))
    with pytest.raises(ValueError, match='spacing'):
        surface_distances(obj, obj, (1, 1, 1))

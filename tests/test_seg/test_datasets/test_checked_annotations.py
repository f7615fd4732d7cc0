"""CheckedLoadAnnotations refuses masks that would train on background only."""
import cv2
import numpy as np
import pytest

from mmplugin_transfuse.seg.datasets import CheckedLoadAnnotations


def _results(path: str, num_classes: int) -> dict:
    return dict(seg_map_path=path, img_path='img.png', ori_shape=(6, 8),
                reduce_zero_label=False, seg_fields=[],
                num_classes=num_classes)


def test_masks_of_only_background_and_the_ignore_index(tmp_path):
    mask = np.zeros((6, 8), np.uint8)
    mask[2:4, 3:6] = 255
    path = str(tmp_path / 'm.png')
    cv2.imwrite(path, mask)
    # a clean 0/255 mask in a binary set: the hint names the fix
    with pytest.raises(ValueError, match=r'm.png holds only 0 and 255.*'
                       'set binarize_threshold=128'):
        CheckedLoadAnnotations()(_results(path, 2))
    with pytest.raises(ValueError, match=r'holds only 0 and 255.*'
                       r'class ids 0..3') as err:
        CheckedLoadAnnotations()(_results(path, 4))
    assert 'binarize_threshold' not in str(err.value)
    # binarised, it is the 0/1 mask of the square
    out = CheckedLoadAnnotations(binarize_threshold=128)(_results(path, 2))
    np.testing.assert_array_equal(out['gt_seg_map'], mask // 255)
    # ignored regions in an image without foreground, when declared
    out = CheckedLoadAnnotations(allow_ignore_only=True)(_results(path, 4))
    np.testing.assert_array_equal(out['gt_seg_map'], mask)
    # with reduce_zero_label, 0 becomes 255: a background-only image is
    # all ignored by design
    results = dict(_results(path, 4), reduce_zero_label=True)
    cv2.imwrite(path, np.zeros((6, 8), np.uint8))
    out = CheckedLoadAnnotations()(results)
    assert set(np.unique(out['gt_seg_map']).tolist()) == {255}
    # a foreground pixel makes the mask an ordinary one
    mask[0, 0] = 1
    cv2.imwrite(path, mask)
    out = CheckedLoadAnnotations()(_results(path, 2))
    assert set(np.unique(out['gt_seg_map']).tolist()) == {0, 1, 255}

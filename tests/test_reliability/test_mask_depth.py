"""16-bit label PNGs: ids are checked at their real depth, never wrapped."""
import os
import os.path as osp

import cv2
import mmengine.fileio
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import DATASETS

import mmplugin_transfuse  # noqa: F401
from mmplugin_transfuse.seg.datasets import CheckedLoadAnnotations


def _results(path: str, shape, num_classes: int, **extra) -> dict:
    return dict(seg_map_path=path, img_path='img.png', ori_shape=shape,
                num_classes=num_classes, reduce_zero_label=False,
                seg_fields=[], **extra)


def _save(path: str, mask: np.ndarray) -> str:
    assert cv2.imwrite(path, mask)  # uint16 arrays become 16-bit PNGs
    return path


def _ids(h=6, w=5) -> np.ndarray:
    mask = np.zeros((h, w), np.uint16)
    mask[1], mask[2], mask[3], mask[4] = 1, 2, 3, 255
    return mask


def test_uint16_id_300_is_refused_with_the_file(tmp_path):
    mask = _ids()
    mask[5, :2] = 300
    path = _save(str(tmp_path / 'm16.png'), mask)
    # the hazard: mmseg's loader casts to uint8, 300 -> 44 without a word
    stock = LoadAnnotations()(_results(path, (6, 5), 4))['gt_seg_map']
    assert stock.dtype == np.uint8 and stock[5, 0] == 44
    with pytest.raises(ValueError, match=r'values \[300\] .*ids 0\.\.3') as e:
        CheckedLoadAnnotations()(_results(path, (6, 5), 4))
    assert path in str(e.value)


def test_uint16_id_that_wraps_to_a_class_is_refused(tmp_path):
    """257 = 256 + 1 would silently train as class 1 of a binary set."""
    init_default_scope('mmseg')
    root = str(tmp_path)
    for sub in ('images', 'masks'):
        os.makedirs(osp.join(root, sub))
    cv2.imwrite(osp.join(root, 'images', 'a.png'),
                np.zeros((6, 5, 3), np.uint8))
    mask = np.zeros((6, 5), np.uint16)
    mask[:2] = 257
    path = _save(osp.join(root, 'masks', 'a.png'), mask)
    ds = DATASETS.build(
        dict(type='PolypDataset', data_root=root, img_suffix='.png',
             seg_map_suffix='.png',
             data_prefix=dict(img_path='images', seg_map_path='masks'),
             pipeline=[dict(type='CheckedLoadImageFromFile'),
                       dict(type='CheckedLoadAnnotations'),
                       dict(type='PackSegInputs')]))
    with pytest.raises(ValueError, match=r'values \[257\].*ids 0\.\.1') as e:
        ds[0]
    assert path in str(e.value)


@pytest.mark.parametrize('extra', [
    dict(),
    dict(reduce_zero_label=True),
    dict(label_map={1: 0, 2: 1, 3: 2}),
])
def test_uint16_mask_with_valid_ids_loads_as_its_8bit_copy(tmp_path, extra):
    mask = _ids()
    p16 = _save(str(tmp_path / 'm16.png'), mask)
    p8 = _save(str(tmp_path / 'm8.png'), mask.astype(np.uint8))
    assert cv2.imread(p16, cv2.IMREAD_UNCHANGED).dtype == np.uint16
    reduce = extra.pop('reduce_zero_label', False)

    def load(transform, path):
        results = _results(path, (6, 5), 4, **extra)
        results['reduce_zero_label'] = reduce
        return transform(results)['gt_seg_map']

    seg16 = load(CheckedLoadAnnotations(), p16)
    seg8 = load(CheckedLoadAnnotations(), p8)
    assert seg16.dtype == seg8.dtype == np.uint8
    np.testing.assert_array_equal(seg16, seg8)
    # mmseg's own reduce_zero_label / label_map on the 8-bit copy
    np.testing.assert_array_equal(seg8, load(LoadAnnotations(), p8))
    if reduce:
        assert set(np.unique(seg16).tolist()) == {0, 1, 2, 255}


def test_mask_file_is_read_once(tmp_path, monkeypatch):
    path = _save(str(tmp_path / 'm.png'), _ids().astype(np.uint8))
    reads = []
    real_get = mmengine.fileio.get

    def get(filepath, *args, **kwargs):
        reads.append(str(filepath))
        return real_get(filepath, *args, **kwargs)

    monkeypatch.setattr(mmengine.fileio, 'get', get)
    seg = CheckedLoadAnnotations()(_results(path, (6, 5), 4))['gt_seg_map']
    np.testing.assert_array_equal(seg, _ids())
    assert reads == [path]


@pytest.mark.parametrize('backend', ['pillow', 'cv2'])
def test_undecodable_mask_is_named(tmp_path, backend):
    path = str(tmp_path / 'm.png')
    with open(path, 'wb') as f:
        f.write(b'GIF89a but not really an image')
    with pytest.raises(ValueError, match='cannot decode mask file') as e:
        CheckedLoadAnnotations(imdecode_backend=backend)(
            _results(path, (6, 5), 4))
    assert path in str(e.value)

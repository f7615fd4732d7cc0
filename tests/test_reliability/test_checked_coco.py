"""CheckedCocoDataset / CheckedLoadImageFromFile: clear errors on bad input."""
import json

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope

import mmplugin_transfuse  # noqa: F401
from mmdet.registry import DATASETS, TRANSFORMS

CLASSES = ('circle', 'square')


def coco_dict():
    return dict(
        images=[
            dict(id=1, file_name='a.jpg', width=32, height=32),
            dict(id=2, file_name='b.jpg', width=32, height=32),  # no anns
        ],
        annotations=[
            dict(id=10, image_id=1, category_id=1, bbox=[2, 2, 10, 8],
                 area=80, iscrowd=0),
            dict(id=11, image_id=1, category_id=2, bbox=[15, 15, 5, 5],
                 area=25, iscrowd=0),
        ],
        categories=[dict(id=1, name='circle'), dict(id=2, name='square')])


def write_set(root, data):
    (root / 'img').mkdir(exist_ok=True)
    for img in data.get('images', []):
        cv2.imwrite(str(root / 'img' / img['file_name']),
                    np.full((32, 32, 3), 127, np.uint8))
    ann = root / 'ann.json'
    ann.write_text(json.dumps(data))
    return str(ann)


def build(root, data, **kwargs):
    init_default_scope('mmdet')
    ann = write_set(root, data)
    cfg = dict(
        type='CheckedCocoDataset',
        data_root=str(root),
        ann_file='ann.json',
        data_prefix=dict(img='img/'),
        metainfo=dict(classes=CLASSES),
        pipeline=[],
        filter_cfg=kwargs.pop('filter_cfg', None))
    cfg.update(kwargs)
    return DATASETS.build(cfg), ann


def test_valid_file_keeps_images_without_annotations(tmp_path):
    ds, _ = build(tmp_path, coco_dict())
    assert len(ds) == 2
    assert [len(ds.get_data_info(i)['instances']) for i in range(2)] == [2, 0]
    # for training filter_empty_gt decides, as in mmdet
    ds, _ = build(tmp_path, coco_dict(),
                  filter_cfg=dict(filter_empty_gt=True))
    assert len(ds) == 1


@pytest.mark.parametrize('key', ['images', 'annotations', 'categories'])
def test_missing_top_level_key(tmp_path, key):
    data = coco_dict()
    del data[key]
    with pytest.raises(ValueError, match=rf"ann\.json: missing top-level "
                       rf"key\(s\) \['{key}'\]"):
        build(tmp_path, data)


def test_test_mode_file_without_annotations_is_fine(tmp_path):
    data = coco_dict()
    del data['annotations']
    ds, _ = build(tmp_path, data, test_mode=True)
    assert len(ds) == 2


@pytest.mark.parametrize('bbox', [[2, 2, 0, 8], [2, 2, 10, -1]])
def test_degenerate_box(tmp_path, bbox):
    data = coco_dict()
    data['annotations'][1]['bbox'] = bbox
    with pytest.raises(ValueError) as err:
        build(tmp_path, data)
    msg = str(err.value)
    assert 'ann.json' in msg and 'id 11' in msg and "'a.jpg'" in msg
    assert 'zero or negative width/height' in msg


def test_nonfinite_box(tmp_path):
    data = coco_dict()
    data['annotations'][0]['bbox'] = [2, 2, None, 8]
    with pytest.raises(ValueError, match=r'id 10.*4 finite numbers'):
        build(tmp_path, data)


def test_unknown_category_id(tmp_path):
    data = coco_dict()
    data['annotations'][0]['category_id'] = 7
    with pytest.raises(ValueError, match=r'annotations\[0\] \(id 10.*'
                       r'category_id 7 is not in "categories" \(ids \[1, 2\]'):
        build(tmp_path, data)


def test_annotation_of_unknown_image(tmp_path):
    data = coco_dict()
    data['annotations'][1]['image_id'] = 99
    with pytest.raises(ValueError, match=r'id 11, image_id 99\): image_id '
                       r'is not the id of an entry of "images"'):
        build(tmp_path, data)


def test_config_class_absent_from_file(tmp_path):
    data = coco_dict()
    data['categories'][1]['name'] = 'star'
    data['annotations'].pop()
    with pytest.raises(ValueError, match=r"classes \['square'\] are not "
                       r'category names'):
        build(tmp_path, data)


def test_missing_and_empty_image_files(tmp_path):
    init_default_scope('mmdet')
    data = coco_dict()
    write_set(tmp_path, data)
    ds_cfg = dict(type='CheckedCocoDataset', data_root=str(tmp_path),
                  ann_file='ann.json', data_prefix=dict(img='img/'),
                  metainfo=dict(classes=CLASSES), pipeline=[])
    (tmp_path / 'img' / 'b.jpg').unlink()
    with pytest.raises(
            FileNotFoundError, match=r'(?s)1 image file\(s\).*b\.jpg'):
        DATASETS.build(ds_cfg)
    (tmp_path / 'img' / 'b.jpg').write_bytes(b'')
    with pytest.raises(ValueError, match=r'(?s)empty \(0 bytes\).*b\.jpg'):
        DATASETS.build(ds_cfg)


@pytest.fixture
def image_files(tmp_path):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (96, 96, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / 'ok.jpg'), img)
    cv2.imwrite(str(tmp_path / 'ok.png'), img)
    jpg = (tmp_path / 'ok.jpg').read_bytes()
    png = (tmp_path / 'ok.png').read_bytes()
    (tmp_path / 'trunc.jpg').write_bytes(jpg[:int(len(jpg) * 0.9)])
    (tmp_path / 'trunc.png').write_bytes(png[:len(png) // 2])
    (tmp_path / 'zero.jpg').write_bytes(b'')
    (tmp_path / 'text.jpg').write_bytes(b'this is not an image')
    return tmp_path


@pytest.mark.parametrize('name, error, message', [
    ('missing.jpg', FileNotFoundError, 'image file not found'),
    ('zero.jpg', ValueError, r'image file is empty \(0 bytes\)'),
    ('trunc.jpg', ValueError, 'truncated JPEG'),
    ('trunc.png', ValueError, 'truncated PNG'),
    ('text.jpg', ValueError, 'not a readable image'),
])
def test_checked_load_image_errors(image_files, name, error, message):
    init_default_scope('mmdet')
    load = TRANSFORMS.build(dict(type='CheckedLoadImageFromFile'))
    path = str(image_files / name)
    with pytest.raises(error, match=message) as err:
        load(dict(img_path=path))
    assert path in str(err.value)
    # ignore_empty: the sample is dropped (None) as with mmcv's transform
    load = TRANSFORMS.build(
        dict(type='CheckedLoadImageFromFile', ignore_empty=True))
    assert load(dict(img_path=path)) is None


def test_checked_load_image_reads_valid_files(image_files):
    init_default_scope('mmdet')
    load = TRANSFORMS.build(dict(type='CheckedLoadImageFromFile'))
    for name in ('ok.jpg', 'ok.png'):
        out = load(dict(img_path=str(image_files / name)))
        assert out['img'].shape == (96, 96, 3)
        assert out['ori_shape'] == (96, 96)

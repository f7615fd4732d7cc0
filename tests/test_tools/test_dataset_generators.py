"""The synthetic data generators: layout, counts, value ranges, determinism."""
import hashlib
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from tests.conftest import load_tool

polyp_gen = load_tool('dataset_generators/generate_synthetic_polyp.py')
shapes_gen = load_tool('dataset_generators/generate_synthetic_shapes.py')


def _digest(folder: str) -> str:
    h = hashlib.sha256()
    for root, _, files in sorted(os.walk(folder)):
        for name in sorted(files):
            with open(osp.join(root, name), 'rb') as f:
                h.update(name.encode() + f.read())
    return h.hexdigest()


def test_polyp_layout_and_counts(synthetic_polyp_root):
    root = synthetic_polyp_root
    images = sorted(os.listdir(osp.join(root, 'images')))
    masks = sorted(os.listdir(osp.join(root, 'masks')))
    assert len(images) == 16 and images == masks
    assert all(n.endswith('.jpg') for n in images)
    train = open(osp.join(root, 'splits', 'train.txt')).read().split()
    val = open(osp.join(root, 'splits', 'val.txt')).read().split()
    assert len(train) == 12 and len(val) == 4 and not set(train) & set(val)
    assert sorted(train + val) == [n[:-4] for n in images]
    img = cv2.imread(osp.join(root, 'images', images[0]), cv2.IMREAD_UNCHANGED)
    mask = cv2.imread(osp.join(root, 'masks', masks[0]), cv2.IMREAD_UNCHANGED)
    assert img.shape == (64, 64, 3) and img.dtype == np.uint8
    assert mask.shape == (64, 64) and mask.dtype == np.uint8


def test_polyp_masks_are_blobs_not_separable_by_threshold():
    fg_means, bg_means = [], []
    for i in range(24):
        img, mask = polyp_gen.make_sample(0, i, (96, 96))
        assert set(np.unique(mask)) <= {0, 255}
        if mask.any():
            gray = img.mean(axis=2)
            fg_means.append(gray[mask > 0].mean())
            bg_means.append(gray[mask == 0].mean())
    assert len(fg_means) >= 12  # most images hold a polyp
    # Across images the foreground and background brightness ranges overlap,
    # so one global intensity threshold cannot segment the set.
    assert min(fg_means) < max(bg_means) and min(bg_means) < max(fg_means)


def test_polyp_deterministic(tmp_path):
    polyp_gen.generate(str(tmp_path / 'a'), 3, 2, (48, 64), seed=5)
    polyp_gen.generate(str(tmp_path / 'b'), 3, 2, (48, 64), seed=5)
    polyp_gen.generate(str(tmp_path / 'c'), 3, 2, (48, 64), seed=6)
    assert _digest(str(tmp_path / 'a')) == _digest(str(tmp_path / 'b'))
    assert _digest(str(tmp_path / 'a')) != _digest(str(tmp_path / 'c'))
    img = cv2.imread(str(tmp_path / 'a' / 'images' / 'syn_00000.jpg'))
    assert img.shape == (48, 64, 3)


def test_polyp_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match='--num-val'):
        polyp_gen.generate(str(tmp_path), 3, 0, (64, 64))
    with pytest.raises(ValueError, match='--size'):
        polyp_gen.generate(str(tmp_path), 3, 1, (16, 64))


def test_shapes_coco_layout(synthetic_shapes_root):
    root = synthetic_shapes_root
    for split, num in (('train', 8), ('val', 4)):
        with open(osp.join(root, 'annotations',
                           f'instances_{split}.json')) as f:
            coco = json.load(f)
        assert [c['name'] for c in coco['categories']] == [
            'circle', 'square', 'triangle', 'star'
        ]
        assert [c['id'] for c in coco['categories']] == [1, 2, 3, 4]
        assert len(coco['images']) == num
        ids = {im['id'] for im in coco['images']}
        for im in coco['images']:
            assert osp.isfile(osp.join(root, split, im['file_name']))
            assert (im['width'], im['height']) == (96, 96)
        ann_ids = [a['id'] for a in coco['annotations']]
        assert len(set(ann_ids)) == len(ann_ids)
        for a in coco['annotations']:
            x, y, w, h = a['bbox']
            assert a['image_id'] in ids and a['category_id'] in (1, 2, 3, 4)
            assert w > 0 and h > 0 and x >= 0 and y >= 0
            assert x + w <= 96 + 1e-6 and y + h <= 96 + 1e-6
            assert a['area'] == pytest.approx(w * h, abs=0.01)


def test_shapes_variety_and_overlap():
    n_per_image, classes, sizes, overlaps = [], set(), [], 0
    for i in range(40):
        img, anns = shapes_gen.make_sample(0, 0, i, 128)
        assert img.shape == (128, 128, 3)
        n_per_image.append(len(anns))
        boxes = [a['bbox'] for a in anns]
        classes |= {a['category_id'] for a in anns}
        sizes += [max(b[2], b[3]) for b in boxes]
        for j in range(len(boxes)):
            for k in range(j + 1, len(boxes)):
                a, b = boxes[j], boxes[k]
                if (a[0] < b[0] + b[2] and b[0] < a[0] + a[2]
                        and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]):
                    overlaps += 1
    assert classes == {1, 2, 3, 4}
    assert max(n_per_image) >= 4  # several objects per image
    assert max(sizes) > 3 * min(sizes)  # varied sizes
    assert overlaps > 0


def test_shapes_deterministic(tmp_path):
    shapes_gen.generate(str(tmp_path / 'a'), 3, 2, 64, seed=1)
    shapes_gen.generate(str(tmp_path / 'b'), 3, 2, 64, seed=1)
    shapes_gen.generate(str(tmp_path / 'c'), 3, 2, 64, seed=2)
    assert _digest(str(tmp_path / 'a')) == _digest(str(tmp_path / 'b'))
    # the images differ, not only the seed the annotations record
    assert _digest(str(tmp_path / 'a' / 'train')) != _digest(
        str(tmp_path / 'c' / 'train'))
    with open(tmp_path / 'c' / 'annotations' / 'instances_val.json') as f:
        assert json.load(f)['info']['generator'] == dict(
            seed=2, size=64, num_classes=4, objects=None)


def test_shapes_class_and_object_count_options(tmp_path):
    counts, classes = [], set()
    for i in range(40):
        _, anns = shapes_gen.make_sample(0, 0, i, 128, num_classes=3,
                                         objects=(1, 4))
        counts.append(len(anns))
        classes |= {a['category_id'] for a in anns}
    # shapes almost entirely outside the image are dropped, so an image may
    # keep fewer than drawn, but never more than 4 and never 4 classes
    assert max(counts) == 4 and sum(c == 0 for c in counts) <= 2
    assert classes == {1, 2, 3}
    shapes_gen.generate(str(tmp_path / 's'), 2, 1, 64, num_classes=3,
                        objects=(1, 4))
    with open(tmp_path / 's' / 'annotations' / 'instances_val.json') as f:
        names = [c['name'] for c in json.load(f)['categories']]
    assert names == ['circle', 'square', 'triangle']
    with pytest.raises(ValueError, match='--num-classes'):
        shapes_gen.generate(str(tmp_path / 'x'), 1, 1, 64, num_classes=5)
    with pytest.raises(ValueError, match='--objects'):
        shapes_gen.generate(str(tmp_path / 'x'), 1, 1, 64, objects=(3, 2))

#!/usr/bin/env python
"""Generate a synthetic coloured-shapes detection set in COCO layout.

Writes::

    <out>/train/shapes_00000.jpg ...
    <out>/val/shapes_00000.jpg ...
    <out>/annotations/instances_train.json
    <out>/annotations/instances_val.json

Classes (COCO category ids 1..4): circle, square, triangle, star. Each image
has a smooth random background and 0-6 shapes of random class, size (about
8-45 % of the image side), rotation (squares, triangles, stars) and colour
(a class-biased hue with per-object variation, so colour alone does not
identify the class). Shapes may overlap; later ones are drawn on top, and each
box is the tight box of the whole shape, as COCO's ``bbox`` = [x, y, w, h].
About 5 % of images are empty (no annotations), as in real COCO files.
Output is a deterministic function of (seed, split, index, size) and the
options below; each annotation file records them in ``info.generator``.

``--num-classes N`` keeps the first N classes and ``--objects A B`` draws
A..B shapes per image with no empty images (e.g. ``--num-classes 3
--objects 1 4`` for the convergence study's recipe); the defaults give the
set described above, byte for byte.

Example::

    python tools/dataset_generators/generate_synthetic_shapes.py \
        --out data/synthetic_shapes --num-train 200 --num-val 50 --size 160
"""
import argparse
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np
from tqdm import tqdm

CLASSES = ('circle', 'square', 'triangle', 'star')
# class-biased hue (OpenCV hue range 0..179); objects jitter around it
CLASS_HUES = (0, 105, 60, 25)


def shape_polygon(rng: np.random.Generator, cls: str, cx: float, cy: float,
                  r: float) -> np.ndarray:
    """Vertices (N, 2) in pixels of one shape of circumradius ``r``."""
    rot = rng.uniform(0, 2 * np.pi)
    if cls == 'circle':
        t = np.linspace(0, 2 * np.pi, 64, endpoint=False)
        radii = np.full_like(t, r)
    elif cls == 'square':
        t = rot + np.arange(4) * np.pi / 2
        radii = np.full_like(t, r)
    elif cls == 'triangle':
        t = rot + np.arange(3) * 2 * np.pi / 3
        radii = np.full_like(t, r)
    elif cls == 'star':
        t = rot + np.arange(10) * np.pi / 5
        radii = np.where(np.arange(10) % 2 == 0, r, 0.45 * r)
    else:
        raise ValueError(f'unknown class {cls!r}; expected one of {CLASSES}')
    return np.stack([cx + radii * np.cos(t), cy + radii * np.sin(t)], axis=1)


def make_sample(seed: int,
                split_id: int,
                index: int,
                size: int,
                num_classes: int = len(CLASSES),
                objects: Optional[Tuple[int, int]] = None
                ) -> Tuple[np.ndarray, List[Dict]]:
    """Return (BGR image (S, S, 3) uint8, list of {category_id, bbox}).

    ``objects=(a, b)``: a..b shapes, never empty; None: 0-6 with ~5 % empty.
    """
    rng = np.random.default_rng([seed, split_id, index])
    grid = rng.uniform(40, 215, size=(3, 3, 3)).astype(np.float32)
    img = cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)
    img += rng.normal(0, 6, size=img.shape).astype(np.float32)
    anns = []
    if objects is None:
        n_obj = 0 if rng.random() < 0.05 else int(rng.integers(1, 7))
    else:
        n_obj = int(rng.integers(objects[0], objects[1] + 1))
    for _ in range(n_obj):
        cls_id = int(rng.integers(num_classes))
        r = rng.uniform(0.04, 0.22) * size
        cx, cy = rng.uniform(0.05 * size, 0.95 * size, size=2)
        poly = shape_polygon(rng, CLASSES[cls_id], cx, cy, r)
        hue = (CLASS_HUES[cls_id] + rng.integers(-25, 26)) % 180
        hsv = np.uint8([[[hue, rng.integers(120, 256), rng.integers(90, 256)]]])
        colour = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0].tolist()
        cv2.fillPoly(img, [np.round(poly).astype(np.int32)], colour,
                     cv2.LINE_AA)
        x0, y0 = np.clip(poly.min(0), 0, size)
        x1, y1 = np.clip(poly.max(0), 0, size)
        if x1 - x0 < 2 or y1 - y0 < 2:  # almost entirely outside the image
            continue
        anns.append(
            dict(
                category_id=cls_id + 1,
                bbox=[round(float(x0), 2), round(float(y0), 2),
                      round(float(x1 - x0), 2), round(float(y1 - y0), 2)]))
    return np.clip(img, 0, 255).astype(np.uint8), anns


def write_split(out: str,
                split: str,
                split_id: int,
                num: int,
                size: int,
                seed: int,
                num_classes: int = len(CLASSES),
                objects: Optional[Tuple[int, int]] = None) -> None:
    os.makedirs(osp.join(out, split), exist_ok=True)
    images, annotations = [], []
    for i in tqdm(range(num), desc=f'synthetic shapes ({split})'):
        name = f'shapes_{i:05d}.jpg'
        img, anns = make_sample(seed, split_id, i, size, num_classes,
                                objects)
        cv2.imwrite(osp.join(out, split, name), img,
                    [cv2.IMWRITE_JPEG_QUALITY, 92])
        images.append(dict(id=i + 1, file_name=name, width=size,
                           height=size))
        for ann in anns:
            w, h = ann['bbox'][2:]
            annotations.append(
                dict(id=len(annotations) + 1, image_id=i + 1,
                     category_id=ann['category_id'], bbox=ann['bbox'],
                     area=round(w * h, 2), iscrowd=0))
    coco = dict(
        # what drew the set, so that a tool reusing the folder can check it
        # is the set it asks for (e.g. tools/benchmark/convergence.py)
        info=dict(description='mmplugin_transfuse synthetic shapes',
                  version='1.0',
                  generator=dict(seed=seed, size=size,
                                 num_classes=num_classes,
                                 objects=list(objects) if objects else None)),
        images=images,
        annotations=annotations,
        categories=[dict(id=i + 1, name=n, supercategory='shape')
                    for i, n in enumerate(CLASSES[:num_classes])])
    os.makedirs(osp.join(out, 'annotations'), exist_ok=True)
    with open(osp.join(out, 'annotations', f'instances_{split}.json'),
              'w') as f:
        json.dump(coco, f)
    print(f'{split}: {len(images)} images, {len(annotations)} boxes')


def generate(out: str,
             num_train: int,
             num_val: int,
             size: int,
             seed: int = 0,
             num_classes: int = len(CLASSES),
             objects: Optional[Tuple[int, int]] = None) -> None:
    """Write both splits to ``out`` (see the module docstring)."""
    if not 1 <= num_classes <= len(CLASSES):
        raise ValueError(f'--num-classes must be in 1..{len(CLASSES)}, got '
                         f'{num_classes}')
    if objects is not None and not 0 <= objects[0] <= objects[1]:
        raise ValueError('--objects A B needs 0 <= A <= B, got '
                         f'{list(objects)}')
    if num_train < 1 or num_val < 1:
        raise ValueError(f'--num-train and --num-val must be >= 1, got '
                         f'{num_train} and {num_val}')
    if size < 32:
        raise ValueError(f'--size must be at least 32, got {size}')
    write_split(out, 'train', 0, num_train, size, seed, num_classes, objects)
    write_split(out, 'val', 1, num_val, size, seed, num_classes, objects)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/synthetic_shapes')
    parser.add_argument('--num-train', type=int, default=200)
    parser.add_argument('--num-val', type=int, default=50)
    parser.add_argument('--size', type=int, default=160,
                        help='square image side in pixels')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-classes', type=int, default=len(CLASSES),
                        help=f'the first N of {CLASSES}')
    parser.add_argument('--objects', type=int, nargs=2, default=None,
                        metavar=('A', 'B'),
                        help='A..B shapes per image, no empty images '
                        '(default: 0-6, ~5 %% empty)')
    return parser.parse_args()


if __name__ == '__main__':
    args = parse_args()
    generate(args.out, args.num_train, args.num_val, args.size, args.seed,
             args.num_classes,
             tuple(args.objects) if args.objects else None)

#!/usr/bin/env python
"""Generate a synthetic polyp-like binary segmentation set (Kvasir-SEG layout).

Writes::

    <out>/images/syn_00000.jpg ...   RGB endoscopy-like frames
    <out>/masks/syn_00000.jpg ...    0/255 grayscale masks (JPEG, as Kvasir-SEG)
    <out>/splits/train.txt           names without suffix, one per line
    <out>/splits/val.txt

Each image shows a textured mucosa background (low-frequency colour field,
vessel-like dark curves, specular highlights) and 0-2 polyps: star-convex
blobs with a smooth random radius profile, a shaded dome, their own texture and
a colour drawn per image close to the background's. The foreground/background
colour distributions overlap across images, so no single intensity threshold
separates them. Output is a deterministic function of (seed, index, size).

Example::

    python tools/dataset_generators/generate_synthetic_polyp.py \
        --out data/synthetic_polyp --num-train 160 --num-val 40 --size 128 128
"""
import argparse
import os
import os.path as osp
from typing import Tuple

import cv2
import numpy as np
from tqdm import tqdm


def smooth_noise(rng: np.random.Generator, shape: Tuple[int, int],
                 cells: int) -> np.ndarray:
    """Low-frequency noise in [-1, 1]: a coarse random grid resized (bicubic)."""
    h, w = shape
    grid = rng.uniform(-1, 1, size=(cells, cells)).astype(np.float32)
    return np.clip(cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC),
                   -1, 1)


def blob_mask(rng: np.random.Generator, shape: Tuple[int, int],
              centre: Tuple[float, float], radius: float) -> np.ndarray:
    """Star-convex blob: radius(theta) = r * (1 + sum_k a_k cos(k theta + p_k))."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dy, dx = yy - centre[0], xx - centre[1]
    theta = np.arctan2(dy, dx)
    profile = np.ones_like(theta)
    for k in range(2, 6):
        profile += rng.uniform(0, 0.12) * np.cos(k * theta +
                                                 rng.uniform(0, 2 * np.pi))
    # elongation along a random axis
    ang = rng.uniform(0, np.pi)
    stretch = rng.uniform(0.7, 1.0)
    along = dx * np.cos(ang) + dy * np.sin(ang)
    across = -dx * np.sin(ang) + dy * np.cos(ang)
    dist = np.sqrt(along**2 + (across / stretch)**2)
    return dist / (radius * profile)  # < 1 inside the blob


def make_sample(seed: int, index: int,
                size: Tuple[int, int]) -> Tuple[np.ndarray, np.ndarray]:
    """Return (BGR uint8 image (H, W, 3), mask uint8 (H, W) in {0, 255})."""
    rng = np.random.default_rng([seed, index])
    h, w = size
    # Mucosa: per-image base colour (BGR) + low-frequency colour field.
    base = np.array([rng.uniform(60, 110), rng.uniform(70, 120),
                     rng.uniform(150, 215)], dtype=np.float32)
    img = np.empty((h, w, 3), np.float32)
    for c in range(3):
        img[..., c] = base[c] + 35 * smooth_noise(rng, (h, w), 4) \
            + 10 * smooth_noise(rng, (h, w), 16)
    # Vessels: dark thin random curves.
    for _ in range(rng.integers(3, 8)):
        pts = np.cumsum(rng.normal(0, w / 10, size=(6, 2)), axis=0) + \
            rng.uniform(0, [w, h])
        cv2.polylines(img, [pts.astype(np.int32)], False,
                      (base * rng.uniform(0.55, 0.8)).tolist(),
                      int(rng.integers(1, 3)), cv2.LINE_AA)
    # Vignetting as in endoscopes.
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((yy - h / 2) / (h / 2))**2 + ((xx - w / 2) / (w / 2))**2
    img *= np.clip(1.15 - 0.45 * r2, 0.3, 1.0)[..., None]

    mask = np.zeros((h, w), np.uint8)
    n_polyps = rng.choice([0, 1, 1, 1, 1, 2, 2])
    for _ in range(n_polyps):
        radius = rng.uniform(0.12, 0.3) * min(h, w)
        centre = (rng.uniform(radius, h - radius), rng.uniform(radius,
                                                               w - radius))
        d = blob_mask(rng, (h, w), centre, radius)
        inside = d < 1
        mask[inside] = 255
        # Colour close to the mucosa (sometimes darker, sometimes lighter):
        # the overlap across images defeats a global threshold.
        tint = base * rng.uniform(0.75, 1.25, size=3).astype(np.float32)
        dome = np.clip(1 - d, 0, 1)**0.5  # shading: brighter at the top
        tex = 12 * smooth_noise(rng, (h, w), 24)
        alpha = np.clip((1 - d) * 6, 0, 1)[..., None]  # soft rim
        poly = tint[None, None] * (0.8 + 0.3 * dome[..., None]) + tex[..., None]
        img = img * (1 - alpha) + poly * alpha
        # Specular highlight near the dome top.
        hy = int(centre[0] - 0.3 * radius)
        hx = int(centre[1] + rng.uniform(-0.3, 0.3) * radius)
        cv2.circle(img, (hx, hy), max(1, int(radius * 0.08)),
                   (250, 250, 250), -1, cv2.LINE_AA)
    img += rng.normal(0, 4, size=img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8), mask


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/synthetic_polyp',
                        help='output folder (created)')
    parser.add_argument('--num-train', type=int, default=160)
    parser.add_argument('--num-val', type=int, default=40)
    parser.add_argument('--size', type=int, nargs=2, default=[128, 128],
                        metavar=('H', 'W'), help='image height and width')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def generate(out: str, num_train: int, num_val: int, size: Tuple[int, int],
             seed: int = 0) -> None:
    """Write the dataset to ``out`` (see the module docstring for the layout)."""
    if num_train < 1 or num_val < 1:
        raise ValueError(f'--num-train and --num-val must be >= 1, got '
                         f'{num_train} and {num_val}')
    if min(size) < 32:
        raise ValueError(f'--size must be at least 32x32, got {size}')
    for sub in ('images', 'masks', 'splits'):
        os.makedirs(osp.join(out, sub), exist_ok=True)
    names = [f'syn_{i:05d}' for i in range(num_train + num_val)]
    for i, name in enumerate(tqdm(names, desc='synthetic polyp')):
        img, mask = make_sample(seed, i, tuple(size))
        cv2.imwrite(osp.join(out, 'images', name + '.jpg'), img,
                    [cv2.IMWRITE_JPEG_QUALITY, 92])
        cv2.imwrite(osp.join(out, 'masks', name + '.jpg'), mask,
                    [cv2.IMWRITE_JPEG_QUALITY, 92])
    with open(osp.join(out, 'splits', 'train.txt'), 'w') as f:
        f.write('\n'.join(names[:num_train]) + '\n')
    with open(osp.join(out, 'splits', 'val.txt'), 'w') as f:
        f.write('\n'.join(names[num_train:]) + '\n')
    print(f'wrote {num_train} train + {num_val} val images '
          f'({size[0]}x{size[1]}) to {out}')


if __name__ == '__main__':
    args = parse_args()
    generate(args.out, args.num_train, args.num_val, tuple(args.size),
             args.seed)

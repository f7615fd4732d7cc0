#!/usr/bin/env python
"""Convert CVC-ClinicDB's TIFF release to the layout PolypDataset reads.

Source (612 frames of 384x288)::

    SRC/Original/<N>.tif        # RGB frames
    SRC/Ground Truth/<N>.tif    # 0/255 masks

(the PNG re-release, ``SRC/Original/<N>.png`` and ``SRC/Ground Truth/<N>.png``,
is read the same way).

Output (``configs/_base_/datasets/cvc_clinicdb.py`` reads it)::

    OUT/images/<N>.png          # lossless re-encoding of the frame
    OUT/masks/<N>.png           # 0 background, 1 polyp
    OUT/splits/{train,val}.txt  # seeded random split (no official one)

Masks are binarised at ``--mask-threshold`` (default 128, the midpoint of
0/255). The source is only read.

Example::

    python tools/dataset_converters/cvc_clinicdb.py data/CVC-ClinicDB \
        --out data/cvc_clinicdb
"""
import argparse
import os.path as osp
from typing import Dict, List, Optional

from tqdm import tqdm

from mmplugin_transfuse.data_prep.conversion import (
    check_output_outside, check_same_size, copy_or_encode, list_images,
    pair_images_masks, random_split, read_binary_mask, read_image,
    report_counts, require_dir, write_png, write_split)

SUFFIXES = ('.tif', '.tiff', '.png')


def convert(src: str,
            out_dir: str,
            val_ratio: float = 0.1,
            seed: int = 0,
            threshold: int = 128) -> Dict[str, int]:
    """Check ``src``, write PNG frames, 0/1 masks and a train/val split."""
    check_output_outside(out_dir, [src])
    images = list_images(
        require_dir(osp.join(src, 'Original'), 'CVC-ClinicDB frames'),
        SUFFIXES)
    masks = list_images(
        require_dir(osp.join(src, 'Ground Truth'), 'CVC-ClinicDB masks'),
        SUFFIXES)
    pairs = pair_images_masks(images, masks)
    for stem, img_path, mask_path in tqdm(pairs, desc='CVC-ClinicDB',
                                          unit='img'):
        image = read_image(img_path)
        mask = read_binary_mask(mask_path, threshold)
        check_same_size(image, mask, img_path, mask_path)
        copy_or_encode(img_path, osp.join(out_dir, 'images', stem + '.png'),
                       image)
        write_png(osp.join(out_dir, 'masks', stem + '.png'), mask)
    # Numeric names (1..612) sort numerically in the split files.
    names = sorted((p[0] for p in pairs),
                   key=lambda n: (not n.isdigit(), int(n) if n.isdigit()
                                  else 0, n))
    train, val = random_split(names, val_ratio, seed)
    order = {n: i for i, n in enumerate(names)}
    write_split(osp.join(out_dir, 'splits', 'train.txt'),
                sorted(train, key=order.get))
    write_split(osp.join(out_dir, 'splits', 'val.txt'),
                sorted(val, key=order.get))
    counts = dict(total=len(pairs), train=len(train), val=len(val))
    report_counts(f'CVC-ClinicDB written to {out_dir}:', counts,
                  dict(total=612))
    return counts


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'src', help="the CVC-ClinicDB folder (Original/, 'Ground Truth'/)")
    parser.add_argument('--out', default='data/cvc_clinicdb')
    parser.add_argument('--val-ratio', type=float, default=0.1)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--mask-threshold', type=int, default=128,
        help='mask values >= this become polyp (default 128)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Dict[str, int]:
    args = parse_args(argv)
    return convert(args.src, args.out, args.val_ratio, args.seed,
                   args.mask_threshold)


if __name__ == '__main__':
    main()

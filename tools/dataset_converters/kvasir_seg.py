#!/usr/bin/env python
"""Convert the raw Kvasir-SEG release to the layout PolypDataset reads.

Source (``kvasir-seg.zip`` from Simula, 1000 images)::

    SRC/images/<id>.jpg
    SRC/masks/<id>.jpg          # JPEG 0/255 masks (not exactly 0/255)
    SRC/kavsir_bboxes.json      # ignored

Output (``configs/_base_/datasets/kvasir_seg.py`` reads it)::

    OUT/images/<id>.jpg         # copied byte for byte
    OUT/masks/<id>.png          # 0 background, 1 polyp
    OUT/splits/{train,val}.txt  # seeded random split (no official one)

Masks are binarised at ``--mask-threshold`` (default 128, the midpoint of
0/255, so JPEG ringing goes to the nearer class). The source is only read.

Example::

    python tools/dataset_converters/kvasir_seg.py data/Kvasir-SEG \
        --out data/kvasir_seg --val-ratio 0.1
"""
import argparse
import os.path as osp
from typing import Dict, List, Optional

from tqdm import tqdm

from mmplugin_transfuse.data_prep.conversion import (
    check_output_outside, check_same_size, copy_or_encode, list_images,
    pair_images_masks, random_split, read_binary_mask, read_image,
    report_counts, require_dir, write_png, write_split)


def convert(src: str,
            out_dir: str,
            val_ratio: float = 0.1,
            seed: int = 0,
            threshold: int = 128) -> Dict[str, int]:
    """Check ``src``, write images, 0/1 masks and a train/val split."""
    check_output_outside(out_dir, [src])
    images = list_images(require_dir(osp.join(src, 'images'), 'Kvasir-SEG '
                                     'images'), ('.jpg', '.jpeg', '.png'))
    masks = list_images(require_dir(osp.join(src, 'masks'), 'Kvasir-SEG '
                                    'masks'), ('.jpg', '.jpeg', '.png'))
    pairs = pair_images_masks(images, masks)
    for stem, img_path, mask_path in tqdm(pairs, desc='Kvasir-SEG',
                                          unit='img'):
        image = read_image(img_path)
        mask = read_binary_mask(mask_path, threshold)
        check_same_size(image, mask, img_path, mask_path)
        copy_or_encode(img_path, osp.join(out_dir, 'images', stem + '.jpg'),
                       image)
        write_png(osp.join(out_dir, 'masks', stem + '.png'), mask)
    train, val = random_split([p[0] for p in pairs], val_ratio, seed)
    write_split(osp.join(out_dir, 'splits', 'train.txt'), train)
    write_split(osp.join(out_dir, 'splits', 'val.txt'), val)
    counts = dict(total=len(pairs), train=len(train), val=len(val))
    report_counts(f'Kvasir-SEG written to {out_dir}:', counts,
                  dict(total=1000))
    return counts


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='the Kvasir-SEG folder (images/, masks/)')
    parser.add_argument('--out', default='data/kvasir_seg')
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

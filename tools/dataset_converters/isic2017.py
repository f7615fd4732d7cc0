#!/usr/bin/env python
"""Convert the ISIC 2017 lesion-segmentation release (Part 1).

Source (the challenge's zip files, extracted side by side)::

    SRC/ISIC-2017_Training_Data/ISIC_xxxxxxx.jpg            # 2000
    SRC/ISIC-2017_Training_Data/ISIC_xxxxxxx_superpixels.png  # ignored
    SRC/ISIC-2017_Training_Part1_GroundTruth/ISIC_xxxxxxx_segmentation.png
    SRC/ISIC-2017_Validation_Data/, ..._Validation_Part1_GroundTruth/  # 150
    SRC/ISIC-2017_Test_v2_Data/,    ..._Test_v2_Part1_GroundTruth/     # 600

Output (``configs/_base_/datasets/isic2017.py`` reads it)::

    OUT/images/{train,val,test}/ISIC_xxxxxxx.jpg
    OUT/masks/{train,val,test}/ISIC_xxxxxxx.png    # 0 background, 1 lesion

Masks are binarised at ``--mask-threshold`` (default 128; the released masks
are 0/255). Without ``--size`` images are copied byte for byte; with
``--size H W`` (the reference code trains and evaluates at 192 256) images
are resized with area interpolation and saved as JPEG quality 100, masks
bilinearly on 0/255 then binarised at the threshold. The source is only
read.

Example::

    python tools/dataset_converters/isic2017.py data/ISIC2017 \
        --out data/isic2017 --size 192 256
"""
import argparse
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmplugin_transfuse.data_prep.conversion import (
    conversion_output, convert_pairs, converter_parser, list_images,
    pair_images_masks, report_counts, require_dir)

SPLITS = {'train': 'Training', 'val': 'Validation', 'test': 'Test_v2'}
EXPECTED = dict(train=2000, val=150, test=600)


def _folders(src: str, split: str) -> tuple:
    tag = SPLITS[split]
    img_dir = require_dir(
        osp.join(src, f'ISIC-2017_{tag}_Data'), f'ISIC 2017 {split} images')
    gt_dir = require_dir(
        osp.join(src, f'ISIC-2017_{tag}_Part1_GroundTruth'),
        f'ISIC 2017 {split} ground truth')
    return img_dir, gt_dir


def _pairs(src: str, split: str) -> list:
    img_dir, gt_dir = _folders(src, split)
    images = list_images(
        img_dir, ('.jpg', '.jpeg', '.png'),
        exclude_endings=('_superpixels.png', ))
    masks = list_images(gt_dir, ('.png', ))
    return pair_images_masks(
        images, masks, mask_key=lambda s: s + '_segmentation')


def convert(src: str,
            out_dir: str,
            splits: Sequence[str] = ('train', 'val', 'test'),
            size: Optional[Sequence[int]] = None,
            threshold: int = 128) -> Dict[str, int]:
    """Check and convert the chosen splits of ``src``."""
    with conversion_output(out_dir, [src]):
        unknown = [s for s in splits if s not in SPLITS]
        if unknown:
            raise ValueError(f'unknown split(s) {unknown}; use {list(SPLITS)}')
        # validate every split first
        jobs = {split: _pairs(src, split) for split in splits}
        counts = {
            split: convert_pairs(pairs, out_dir, '.jpg', threshold,
                                 f'ISIC 2017 {split}', split, size)
            for split, pairs in jobs.items()
        }
        report_counts(f'ISIC 2017 written to {out_dir}:', counts, EXPECTED)
        return counts


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = converter_parser(__doc__.split('\n')[0],
                              'folder holding the ISIC-2017_* folders',
                              'data/isic2017', 'lesion')
    parser.add_argument(
        '--splits', nargs='+', default=list(SPLITS), choices=list(SPLITS))
    parser.add_argument(
        '--size', nargs=2, type=int, metavar=('H', 'W'),
        help='resize images and masks (reference code: 192 256)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Dict[str, int]:
    return convert(**vars(parse_args(argv)))


if __name__ == '__main__':
    main()

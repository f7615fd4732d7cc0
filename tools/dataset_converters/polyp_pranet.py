#!/usr/bin/env python
"""Convert the PraNet polyp benchmark to the layout PolypDataset reads.

Source (as downloaded from the PraNet repository; note the singular folder
names of the training set and the plural ones of the test sets)::

    SRC/TrainDataset/image/*.png        # 900 Kvasir-SEG + 550 CVC-ClinicDB
    SRC/TrainDataset/mask/*.png
    SRC/TestDataset/{Kvasir,CVC-ClinicDB,CVC-ColonDB,CVC-300,
                     ETIS-LaribPolypDB}/{images,masks}/*.png

Output (``configs/_base_/datasets/polyp_pranet.py`` reads it)::

    OUT/<set>/images/<name>.png         # set: train, Kvasir, ... (5 tests)
    OUT/<set>/masks/<name>.png          # 0 background, 1 polyp
    OUT/splits/<set>.txt                # names without suffix

Masks are binarised at ``--mask-threshold`` (default 128, the midpoint of
0/255: the released masks are not exactly 0/255). Images are copied byte
for byte (PNG) or re-encoded losslessly as PNG. The source is only read.

Example::

    python tools/dataset_converters/polyp_pranet.py data/PraNet \
        --out data/polyp_pranet
"""
import argparse
import os.path as osp
from typing import Dict, List, Optional

from mmplugin_transfuse.data_prep.conversion import (
    conversion_output, convert_pairs, converter_parser, list_images,
    pair_images_masks, report_counts, require_dir, write_split)

TEST_SETS = ('Kvasir', 'CVC-ClinicDB', 'CVC-ColonDB', 'CVC-300',
             'ETIS-LaribPolypDB')
EXPECTED = {
    'train': 1450,
    'Kvasir': 100,
    'CVC-ClinicDB': 62,
    'CVC-ColonDB': 380,
    'CVC-300': 60,
    'ETIS-LaribPolypDB': 196
}


def convert_set(name: str, img_dir: str, mask_dir: str, out_dir: str,
                threshold: int) -> int:
    """Check and convert one set; returns its number of samples."""
    pairs = pair_images_masks(list_images(img_dir), list_images(mask_dir))
    convert_pairs(pairs, osp.join(out_dir, name), '.png', threshold, name)
    write_split(osp.join(out_dir, 'splits', name + '.txt'),
                [p[0] for p in pairs])
    return len(pairs)


def convert(src: str,
            out_dir: str,
            test_sets: List[str] = list(TEST_SETS),
            threshold: int = 128,
            with_train: bool = True) -> Dict[str, int]:
    """Convert the training set and the chosen test sets of ``src``."""
    with conversion_output(out_dir, [src]):
        jobs = []
        if with_train:
            root = require_dir(
                osp.join(src, 'TrainDataset'), 'PraNet training set')
            jobs.append(
                ('train', require_dir(osp.join(root, 'image'), 'images'),
                 require_dir(osp.join(root, 'mask'), 'masks')))
        for name in test_sets:
            root = require_dir(
                osp.join(src, 'TestDataset', name), f'PraNet test set {name}')
            jobs.append((name, require_dir(osp.join(root, 'images'), 'images'),
                         require_dir(osp.join(root, 'masks'), 'masks')))
        # Validate every set before writing anything.
        for name, img_dir, mask_dir in jobs:
            pair_images_masks(list_images(img_dir), list_images(mask_dir))
        counts = {
            name: convert_set(name, img_dir, mask_dir, out_dir, threshold)
            for name, img_dir, mask_dir in jobs
        }
        report_counts(f'PraNet polyp sets written to {out_dir}:', counts,
                      EXPECTED)
        return counts


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = converter_parser(__doc__.split('\n')[0],
                              'folder holding TrainDataset/ and TestDataset/',
                              'data/polyp_pranet', 'polyp')
    parser.add_argument(
        '--test-sets', nargs='+', default=list(TEST_SETS), metavar='SET')
    parser.add_argument('--no-train', dest='with_train', action='store_false',
                        help='convert only the test sets')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Dict[str, int]:
    return convert(**vars(parse_args(argv)))


if __name__ == '__main__':
    main()

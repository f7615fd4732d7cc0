"""One converter for datasets released as an image folder and a mask folder.

Kvasir-SEG and CVC-ClinicDB differ only in folder names, file formats and
the image format written; a :class:`PairedFolderLayout` holds those, and
:func:`convert_paired_folders` does the rest the same way for both:

    SRC/<image_dir>/<name>.<ext>     # images
    SRC/<mask_dir>/<name>.<ext>      # 0/255 masks (possibly JPEG-noisy)
  ->
    OUT/images/<name><out_image_ext> # copied byte for byte when the format
                                     # already matches, else lossless PNG
    OUT/masks/<name>.png             # 0 background, 1 foreground
    OUT/splits/{train,val}.txt       # seeded random split, names in
                                     # natural order (``2`` before ``10``)

``tools/dataset_converters/kvasir_seg.py`` and ``cvc_clinicdb.py`` are the
command lines, one per layout (:func:`main`).
"""
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from .conversion import (conversion_output, convert_pairs, converter_parser,
                         list_images, natural_key, pair_images_masks,
                         random_split, report_counts, require_dir, write_split)


@dataclass(frozen=True)
class PairedFolderLayout:
    """Where a release keeps its images and masks, and what is written.

    Attributes:
        name (str): Dataset name used in messages.
        image_dir (str): Image folder, relative to the source folder.
        mask_dir (str): Mask folder, relative to the source folder.
        suffixes (tuple[str]): Accepted file suffixes (both folders).
        out_image_ext (str): Suffix of the written images.
        expected_total (int): Number of pairs of the official release
            (a different count is flagged, not refused).
        default_out (str): Default output folder of the command line.
    """
    name: str
    image_dir: str
    mask_dir: str
    suffixes: Tuple[str, ...]
    out_image_ext: str
    expected_total: int
    default_out: str


KVASIR_SEG = PairedFolderLayout(
    name='Kvasir-SEG',
    image_dir='images',
    mask_dir='masks',
    suffixes=('.jpg', '.jpeg', '.png'),
    out_image_ext='.jpg',  # the release is JPEG: copied, never re-encoded
    expected_total=1000,
    default_out='data/kvasir_seg')
CVC_CLINICDB = PairedFolderLayout(
    name='CVC-ClinicDB',
    image_dir='Original',
    mask_dir='Ground Truth',
    suffixes=('.tif', '.tiff', '.png'),
    out_image_ext='.png',  # TIFF frames: lossless re-encoding
    expected_total=612,
    default_out='data/cvc_clinicdb')


def convert_paired_folders(layout: PairedFolderLayout,
                           src: str,
                           out_dir: str,
                           val_ratio: float = 0.1,
                           seed: int = 0,
                           threshold: int = 128) -> Dict[str, int]:
    """Check ``src``, write images, 0/1 masks and a train/val split.

    Every image must have a mask of the same size and the other way round
    (the error names the files); the source is only read.

    Returns:
        dict: ``total``, ``train`` and ``val`` counts.
    """
    with conversion_output(out_dir, [src]):
        images, masks = (list_images(
            require_dir(osp.join(src, folder), f'{layout.name} {what}'),
            layout.suffixes) for folder, what in (
                (layout.image_dir, 'images'), (layout.mask_dir, 'masks')))
        pairs = pair_images_masks(images, masks)
        convert_pairs(pairs, out_dir, layout.out_image_ext, threshold,
                      desc=layout.name)
        train, val = random_split([p[0] for p in pairs], val_ratio, seed)
        for split, names in (('train', train), ('val', val)):
            write_split(osp.join(out_dir, 'splits', f'{split}.txt'),
                        sorted(names, key=natural_key))
        counts = dict(total=len(pairs), train=len(train), val=len(val))
        report_counts(f'{layout.name} written to {out_dir}:', counts,
                      dict(total=layout.expected_total))
        return counts


def main(layout: PairedFolderLayout,
         argv: Optional[List[str]] = None,
         description: Optional[str] = None) -> Dict[str, int]:
    """The command line of one layout: ``SRC [--out] [--val-ratio] ...``."""
    parser = converter_parser(
        description or f'Convert {layout.name}.',
        f'the {layout.name} folder ({layout.image_dir}/, {layout.mask_dir}/)',
        layout.default_out, 'foreground')
    parser.add_argument('--val-ratio', type=float, default=0.1)
    parser.add_argument('--seed', type=int, default=0)
    return convert_paired_folders(layout, **vars(parser.parse_args(argv)))

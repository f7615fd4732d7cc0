"""File checks and I/O shared by the ``tools/dataset_converters`` scripts.

The converters read a dataset as released, check it, and write the layout
the dataset classes read. Everything here either succeeds or raises an
error that names the offending file or folder; nothing writes to the
source tree.
"""
import argparse
import contextlib
import os
import os.path as osp
import random
import re
import shutil
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from tqdm import tqdm

from mmplugin_transfuse.engine.output_folder import removed_on_failure
from mmplugin_transfuse.seg.datasets.preprocessing import binarize_mask
from mmplugin_transfuse.utils import first_n_and_more

IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')


class DatasetLayoutError(RuntimeError):
    """The source folder does not have the expected files."""


def require_dir(path: str, what: str) -> str:
    """Return ``path`` if it is a folder, else raise naming ``what``."""
    if not osp.isdir(path):
        raise DatasetLayoutError(f'missing folder {path} ({what})')
    return path


def check_output_outside(out_dir: str, sources: Iterable[str]) -> None:
    """Refuse to write inside (or onto) a source folder."""
    out = osp.realpath(out_dir)
    for src in sources:
        src = osp.realpath(src)
        if out == src or out.startswith(src + os.sep):
            raise ValueError(f'output folder {out_dir} lies inside the source '
                             f'folder {src}; converters never write there')



def converter_parser(description: str,
                     src_help: str,
                     default_out: str,
                     foreground: Optional[str] = None
                     ) -> argparse.ArgumentParser:
    """The command line every converter shares: ``src``, ``--out`` (dest
    ``out_dir``) and, for a set with binary masks (``foreground`` names the
    class), ``--mask-threshold`` (dest ``threshold``).

    The dests are the converter function's argument names, so a tool runs
    ``convert(**vars(parser.parse_args(argv)))``.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('src', help=src_help)
    parser.add_argument(
        '--out',
        dest='out_dir',
        default=default_out,
        help='output folder (default: %(default)s)')
    if foreground is not None:
        parser.add_argument(
            '--mask-threshold',
            dest='threshold',
            type=int,
            default=128,
            help=f'mask values >= this become {foreground} (default 128)')
    return parser


@contextlib.contextmanager
def conversion_output(out_dir: str, sources: Iterable[str]) -> Iterator[None]:
    """The ``with`` body writes a converted data set to ``out_dir``.

    ``out_dir`` inside (or onto) a source folder is refused before anything
    is written; on an exception in the body, what it wrote is removed
    (:func:`removed_on_failure`), so a failed conversion leaves no partial
    data set that a later run could take for a complete one.
    """
    check_output_outside(out_dir, sources)
    with removed_on_failure(out_dir):
        yield

def list_images(folder: str,
                suffixes: Sequence[str] = IMAGE_SUFFIXES,
                exclude_endings: Sequence[str] = ()) -> Dict[str, str]:
    """Map file stem to path for image files directly inside ``folder``.

    Hidden files (``.DS_Store``, macOS ``._*`` forks) are skipped.

    Raises:
        DatasetLayoutError: two files share a stem, or none is found.
    """
    found: Dict[str, str] = {}
    for name in sorted(os.listdir(folder)):
        stem, ext = osp.splitext(name)
        if (name.startswith('.') or ext.lower() not in suffixes
                or any(name.endswith(e) for e in exclude_endings)):
            continue
        if stem in found:
            raise DatasetLayoutError(
                f'{folder} holds both {osp.basename(found[stem])} and {name}')
        found[stem] = osp.join(folder, name)
    if not found:
        raise DatasetLayoutError(
            f'no image ({"/".join(suffixes)}) found in {folder}')
    return found


def pair_images_masks(images: Dict[str, str],
                      masks: Dict[str, str],
                      mask_key: Optional[callable] = None
                      ) -> List[Tuple[str, str, str]]:
    """Match every image with its mask; raise naming the unmatched files.

    Args:
        images (dict): Stem to image path.
        masks (dict): Stem to mask path.
        mask_key (callable, optional): Maps an image stem to its mask stem
            (e.g. ISIC's ``ISIC_x`` -> ``ISIC_x_segmentation``).

    Returns:
        list[tuple[str, str, str]]: ``(name, image_path, mask_path)`` sorted
        by name.
    """
    mask_key = mask_key or (lambda s: s)
    pairs, lonely = [], []
    wanted = set()
    for stem, path in sorted(images.items()):
        key = mask_key(stem)
        wanted.add(key)
        if key not in masks:
            lonely.append(path)
        else:
            pairs.append((stem, path, masks[key]))
    if lonely:
        raise DatasetLayoutError(
            f'{len(lonely)} image(s) have no mask: '
            f'{first_n_and_more(lonely, 3)}')
    orphans = sorted(masks[k] for k in masks if k not in wanted)
    if orphans:
        raise DatasetLayoutError(
            f'{len(orphans)} mask(s) have no image: '
            f'{first_n_and_more(orphans, 3)}')
    return pairs


def read_image(path: str, flag: int = cv2.IMREAD_COLOR) -> np.ndarray:
    """``cv2.imread`` that raises naming the file when it cannot decode."""
    img = cv2.imread(path, flag)
    if img is None:
        raise DatasetLayoutError(f'cannot read image {path} (missing, '
                                 'truncated or not an image)')
    return img


def read_binary_mask(path: str, threshold: int = 128) -> np.ndarray:
    """Read a 0/255 mask (grey or colour, any format) and return 0/1.

    Raises:
        DatasetLayoutError: the file cannot be decoded, or it is non-empty
            yet has no value reaching ``threshold`` (it already holds class
            ids, e.g. 0/1: binarising at 128 would erase it).
    """
    mask = read_image(path, cv2.IMREAD_UNCHANGED)
    if mask.ndim == 3:
        mask = mask[..., :3]  # drop an alpha channel
    peak = int(mask.max())
    if 0 < peak < threshold:
        raise DatasetLayoutError(
            f'mask {path} has maximum value {peak} < threshold {threshold}: '
            'it does not look like a 0/255 mask (pass a lower '
            '--mask-threshold if it holds class ids)')
    return binarize_mask(mask, threshold)


def check_same_size(image: np.ndarray, mask: np.ndarray, image_path: str,
                    mask_path: str) -> None:
    """Raise when an image and its mask differ in height/width."""
    if image.shape[:2] != mask.shape[:2]:
        raise DatasetLayoutError(
            f'image {image_path} is {image.shape[:2]} but its mask '
            f'{mask_path} is {mask.shape[:2]}')


def write_png(path: str, array: np.ndarray) -> None:
    """Write a PNG (lossless), creating folders; raise if it fails."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    if not cv2.imwrite(path, array):
        raise OSError(f'cannot write {path}')


def copy_or_encode(src: str, dst: str, image: np.ndarray) -> None:
    """Copy ``src`` byte for byte if it has ``dst``'s format, else encode.

    Copying avoids a second lossy JPEG compression.
    """
    os.makedirs(osp.dirname(dst), exist_ok=True)
    src_ext = osp.splitext(src)[1].lower().replace('jpeg', 'jpg')
    if src_ext == osp.splitext(dst)[1].lower():
        shutil.copyfile(src, dst)
    elif not cv2.imwrite(dst, image):
        raise OSError(f'cannot write {dst}')


def resize_pair(image: np.ndarray, mask: np.ndarray, size: Sequence[int],
                threshold: int = 128) -> Tuple[np.ndarray, np.ndarray]:
    """Resize an image (area) and its 0/1 mask to ``size = (h, w)``.

    The mask is smoothed as 0/255 and re-thresholded, so a pixel on the
    boundary goes to the class that covers most of it.
    """
    h, w = size
    image = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
    mask = (cv2.resize(mask * 255, (w, h), interpolation=cv2.INTER_LINEAR)
            >= threshold).astype(np.uint8)
    return image, mask


def convert_pairs(pairs: Sequence[Tuple[str, str, str]],
                  out_root: str,
                  image_ext: str,
                  threshold: int = 128,
                  desc: str = '',
                  split: str = '',
                  size: Optional[Sequence[int]] = None) -> int:
    """Check and write ``(name, image, mask)`` pairs; return their number.

    Writes ``out_root/images/[split/]<name><image_ext>`` (copied byte for
    byte when the format already matches and ``size`` is None, else
    encoded; JPEG at quality 100) and ``out_root/masks/[split/]<name>.png``
    (0/1, binarised at ``threshold``). Every failure names the file.
    """
    for stem, img_path, mask_path in tqdm(pairs, desc=desc, unit='img'):
        image = read_image(img_path)
        mask = read_binary_mask(mask_path, threshold)
        check_same_size(image, mask, img_path, mask_path)
        dst = osp.join(out_root, 'images', split, stem + image_ext)
        if size is None:
            copy_or_encode(img_path, dst, image)
        else:
            image, mask = resize_pair(image, mask, size, threshold)
            os.makedirs(osp.dirname(dst), exist_ok=True)
            if not cv2.imwrite(dst, image, [cv2.IMWRITE_JPEG_QUALITY, 100]):
                raise OSError(f'cannot write {dst}')
        write_png(osp.join(out_root, 'masks', split, stem + '.png'), mask)
    return len(pairs)


def natural_key(name: str) -> Tuple:
    """Sort key that orders digit runs by value (``'2' < '10'``)."""
    return tuple((0, int(part), '') if part.isdigit() else (1, 0, part)
                 for part in re.split(r'(\d+)', name) if part)


def write_split(path: str, names: Iterable[str]) -> None:
    """Write one sample name per line."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.writelines(f'{n}\n' for n in names)


def random_split(names: Sequence[str], val_ratio: float,
                 seed: int) -> Tuple[List[str], List[str]]:
    """Seeded split into (train, val), both sorted; val gets >= 1 if any."""
    if not 0 <= val_ratio < 1:
        raise ValueError(f'val ratio must be in [0, 1), got {val_ratio}')
    names = sorted(names)
    shuffled = list(names)
    random.Random(seed).shuffle(shuffled)
    num_val = int(round(len(names) * val_ratio))
    if val_ratio > 0 and len(names) > 1:
        num_val = min(max(num_val, 1), len(names) - 1)
    val = set(shuffled[:num_val])
    return [n for n in names if n not in val], [n for n in names if n in val]


def report_counts(title: str, counts: Dict[str, int],
                  expected: Optional[Dict[str, int]] = None) -> str:
    """Print (and return) a count table, flagging unexpected counts."""
    lines = [title]
    for name, num in counts.items():
        line = f'  {name:<22s} {num:>6d}'
        if expected and name in expected and expected[name] != num:
            line += f'   (the official release has {expected[name]})'
        lines.append(line)
    text = '\n'.join(lines)
    print(text)
    return text

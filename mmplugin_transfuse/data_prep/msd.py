"""Reading Medical Segmentation Decathlon (MSD) volumes with nibabel.

Shared by ``tools/dataset_converters/prostate_msd.py`` (volumes to slices)
and ``tools/eval_prostate_volumes.py`` (whole-volume inference), so both
check the files the same way and see the same arrays. nibabel is an
optional extra: ``pip install 'mmplugin_transfuse[medical]'``.
"""
import json
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import numpy as np

from .conversion import DatasetLayoutError

try:
    import nibabel as nib
except ImportError as e:  # the runtime package does not need nibabel
    raise ImportError(
        'mmplugin_transfuse.data_prep.msd reads NIfTI volumes with nibabel, '
        "which is not installed: pip install 'mmplugin_transfuse[medical]' "
        '(or pip install nibabel)') from e


def intensity_to_uint8(
        volume: np.ndarray,
        percentiles: Tuple[float, float] = (0.5, 99.5)) -> np.ndarray:
    """Scale one MR modality of one volume to 0..255.

    MR intensities have no absolute unit, so each modality of each volume is
    clipped to its own ``percentiles`` (robust to a few hot voxels) and
    mapped linearly to 0..255, the input range of ImageNet-style
    normalisation. A constant volume maps to zeros.

    Args:
        volume (np.ndarray): One modality, any shape, e.g. ``(X, Y, Z)``.
        percentiles (tuple[float, float]): Lower and upper clip percentiles.
            Defaults to (0.5, 99.5).

    Returns:
        np.ndarray: uint8 array of the same shape.
    """
    volume = np.asarray(volume, dtype=np.float32)
    lo, hi = np.percentile(volume, percentiles)
    if hi <= lo:
        return np.zeros(volume.shape, dtype=np.uint8)
    scaled = (np.clip(volume, lo, hi) - lo) / (hi - lo) * 255.0
    return np.round(scaled).astype(np.uint8)


def read_dataset_json(src: str) -> dict:
    """Load and check ``dataset.json``."""
    path = osp.join(src, 'dataset.json')
    if not osp.isfile(path):
        raise DatasetLayoutError(f'missing file {path} (MSD dataset '
                                 'description)')
    try:
        with open(path) as f:
            meta = json.load(f)
    except json.JSONDecodeError as e:
        raise DatasetLayoutError(f'{path} is not valid JSON: {e}') from e
    for key in ('modality', 'labels', 'training'):
        if key not in meta:
            raise DatasetLayoutError(f'{path} has no {key!r} entry')
    for i, case in enumerate(meta['training']):
        if not isinstance(case, dict) or not {'image', 'label'} <= set(case):
            raise DatasetLayoutError(
                f'{path}: training[{i}] must hold "image" and "label"')
    return meta


def case_paths(src: str, case: dict) -> Tuple[str, str]:
    """Image and label paths of a ``dataset.json`` case; raise if missing."""
    paths = tuple(
        osp.normpath(osp.join(src, case[k])) for k in ('image', 'label'))
    for path in paths:
        if not osp.isfile(path):
            raise DatasetLayoutError(
                f'missing file {path} (listed in dataset.json)')
    return paths


def check_case_header(src: str, case: dict, num_modalities: int) -> None:
    """Cheap check of one case from the NIfTI headers only."""
    img_path, lbl_path = case_paths(src, case)
    try:
        img_shape = nib.load(img_path).shape
        lbl_shape = nib.load(lbl_path).shape
    except Exception as e:  # nibabel raises several types on bad files
        raise DatasetLayoutError(
            f'cannot read NIfTI header of {img_path} / {lbl_path}: {e}') from e
    ok = ((len(img_shape) == 4 and img_shape[3] == num_modalities)
          or (len(img_shape) == 3 and num_modalities == 1))
    if not ok:
        raise DatasetLayoutError(
            f'{img_path} has shape {img_shape}; expected 4-D (X, Y, Z, '
            f'{num_modalities}) for the modalities of dataset.json')
    if tuple(lbl_shape) != tuple(img_shape[:3]):
        raise DatasetLayoutError(
            f'{lbl_path} has shape {lbl_shape} but its image {img_path} '
            f'has {img_shape[:3]}')


def check_finite(array: np.ndarray, path: str, what: str) -> None:
    """Raise naming ``path`` if ``array`` holds NaN or infinite values."""
    if not np.issubdtype(array.dtype, np.floating):
        return  # integer NIfTI data cannot hold NaN
    bad = ~np.isfinite(array)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise DatasetLayoutError(
            f'{path} has {int(bad.sum())} NaN/inf voxel(s) (first at index '
            f'{first}); expected finite {what}')


def load_case(src: str, case: dict, num_modalities: int,
              label_ids: Sequence[int]) -> Tuple[np.ndarray, np.ndarray,
                                                 Tuple[float, ...]]:
    """Load and check one training case.

    Returns:
        tuple: image ``(X, Y, Z, M)`` float32, label ``(X, Y, Z)`` uint8 and
        the voxel spacing ``(X, Y, Z)`` in mm.
    """
    img_path, lbl_path = case_paths(src, case)
    try:
        img_nii, lbl_nii = nib.load(img_path), nib.load(lbl_path)
        image = np.asarray(img_nii.dataobj, dtype=np.float32)
        label = np.asarray(lbl_nii.dataobj)
    except Exception as e:  # nibabel raises several types on bad files
        raise DatasetLayoutError(
            f'cannot read NIfTI {img_path} / {lbl_path}: {e}') from e
    if image.ndim == 3 and num_modalities == 1:
        image = image[..., None]
    if image.ndim != 4 or image.shape[3] != num_modalities:
        raise DatasetLayoutError(
            f'{img_path} has shape {image.shape}; expected 4-D (X, Y, Z, '
            f'{num_modalities}) for the modalities of dataset.json')
    if label.shape != image.shape[:3]:
        raise DatasetLayoutError(
            f'{lbl_path} has shape {label.shape} but its image {img_path} '
            f'has {image.shape[:3]}')
    # NaN would turn the percentile scaling (and rint of a label) into
    # garbage without any error
    check_finite(image, img_path, 'intensities')
    check_finite(label, lbl_path, 'label ids')
    label = np.rint(label).astype(np.int64)
    bad = sorted(set(np.unique(label).tolist()) - set(label_ids))
    if bad:
        raise DatasetLayoutError(
            f'{lbl_path} holds label values {bad} outside dataset.json '
            f'labels {sorted(label_ids)}')
    spacing = tuple(float(s) for s in img_nii.header.get_zooms()[:3])
    if any(s <= 0 for s in spacing):
        raise DatasetLayoutError(f'{img_path} has voxel spacing {spacing}')
    return image, label.astype(np.uint8), spacing


def training_cases(meta: dict) -> Dict[str, dict]:
    """Volume id (file name without ``.nii.gz``) -> ``training`` entry."""
    return {
        osp.basename(c['image']).split('.nii')[0]: c
        for c in meta['training']
    }


def modality_names(meta: dict) -> List[str]:
    """Modality names in channel order, e.g. ``['T2', 'ADC']``."""
    return [meta['modality'][k] for k in sorted(meta['modality'], key=int)]


def volume_to_uint8(image: np.ndarray,
                    percentiles: Sequence[float] = (0.5, 99.5)) -> np.ndarray:
    """Scale each modality of a ``(X, Y, Z, M)`` volume to uint8.

    Every modality is clipped to its own percentiles and mapped to 0..255
    (:func:`intensity_to_uint8`): the slices the converter saves and the
    input of whole-volume inference are therefore identical.

    Returns:
        np.ndarray: ``(X, Y, Z, M)`` uint8.
    """
    return np.stack([
        intensity_to_uint8(image[..., m], tuple(percentiles))
        for m in range(image.shape[-1])
    ], axis=-1)

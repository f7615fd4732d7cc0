"""Tiny fake copies of the medical datasets, in their real download layouts.

Each builder writes a few small files exactly where (and in the format)
the public release has them, and returns what the converted dataset must
contain, so tests can check converters and dataset classes end to end.
"""
import json
import os
import os.path as osp
from typing import Dict, Sequence

import cv2
import nibabel as nib
import numpy as np

PRANET_TEST_SETS = ('Kvasir', 'CVC-ClinicDB', 'CVC-ColonDB', 'CVC-300',
                    'ETIS-LaribPolypDB')


def _image(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def _noisy_mask(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """0/255 rectangle with the off-values real masks have (not 0/255)."""
    mask = np.zeros((h, w), np.uint8)
    y0, x0 = rng.integers(0, h // 2), rng.integers(0, w // 2)
    mask[y0:y0 + h // 2, x0:x0 + w // 2] = 255
    noise = rng.random((h, w))
    mask[(mask == 0) & (noise < 0.2)] = 40  # stays background
    mask[(mask == 255) & (noise < 0.2)] = 200  # stays foreground
    return mask


def _write(path: str, array: np.ndarray, params=()) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    assert cv2.imwrite(path, array, list(params)), path


def expected_binary(mask_path: str) -> np.ndarray:
    """0/1 mask a converter must produce from a source mask (>= 128)."""
    mask = cv2.imread(mask_path, cv2.IMREAD_GRAYSCALE)
    return (mask >= 128).astype(np.uint8)


def make_pranet_tree(root: str,
                     num_train: int = 3,
                     num_test: Sequence[int] = (2, 1, 1, 1, 2),
                     size=(20, 24),
                     seed: int = 0,
                     numbered: bool = False) -> Dict[str, Dict[str, str]]:
    """``TrainDataset/{image,mask}``, ``TestDataset/<set>/{images,masks}``.

    With ``numbered`` every set names its images ``1.png``, ``2.png`` ...
    as the CVC-ClinicDB, CVC-ColonDB and ETIS releases do, so names recur
    across sets; otherwise each set has its own names.

    Returns:
        dict: set name (``'train'`` or the test set) -> {name: mask path}.
    """
    rng = np.random.default_rng(seed)
    h, w = size
    out: Dict[str, Dict[str, str]] = {}
    sets = [('train', osp.join(root, 'TrainDataset'), 'image', 'mask',
             num_train)]
    sets += [(name, osp.join(root, 'TestDataset', name), 'images', 'masks',
              n) for name, n in zip(PRANET_TEST_SETS, num_test)]
    for name, base, img_sub, mask_sub, n in sets:
        out[name] = {}
        for i in range(n):
            stem = str(i + 1) if numbered else f'{name[:3].lower()}{i}'
            _write(osp.join(base, img_sub, stem + '.png'), _image(rng, h, w))
            mask_path = osp.join(base, mask_sub, stem + '.png')
            _write(mask_path, _noisy_mask(rng, h, w))
            out[name][stem] = mask_path
    return out


def make_kvasir_seg_tree(root: str, num: int = 4, size=(20, 24),
                         seed: int = 1) -> Dict[str, str]:
    """``Kvasir-SEG/{images,masks}/<id>.jpg`` (JPEG masks) + bbox json."""
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(num):
        stem = f'cju{i:04d}kvasir'
        _write(osp.join(root, 'images', stem + '.jpg'), _image(rng, *size))
        mask_path = osp.join(root, 'masks', stem + '.jpg')
        _write(mask_path, _noisy_mask(rng, *size))
        out[stem] = mask_path
    with open(osp.join(root, 'kavsir_bboxes.json'), 'w') as f:
        json.dump({}, f)
    return out


def make_cvc_clinicdb_tree(root: str, num: int = 3, size=(18, 22),
                           seed: int = 2) -> Dict[str, str]:
    """``Original/<N>.tif`` and ``Ground Truth/<N>.tif``, N from 1."""
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(1, num + 1):
        _write(osp.join(root, 'Original', f'{i}.tif'), _image(rng, *size))
        mask_path = osp.join(root, 'Ground Truth', f'{i}.tif')
        _write(mask_path, _noisy_mask(rng, *size))
        out[str(i)] = mask_path
    return out


def make_isic2017_tree(root: str,
                       num: Dict[str, int] = None,
                       size=(30, 40),
                       seed: int = 3) -> Dict[str, Dict[str, str]]:
    """``ISIC-2017_{Training,Validation,Test_v2}_{Data,Part1_GroundTruth}``.

    The training folder also holds ``*_superpixels.png`` files and a
    metadata CSV, as in the release.
    """
    num = num or dict(train=3, val=1, test=2)
    tags = dict(train='Training', val='Validation', test='Test_v2')
    rng = np.random.default_rng(seed)
    out: Dict[str, Dict[str, str]] = {}
    idx = 0
    for split, n in num.items():
        data = osp.join(root, f'ISIC-2017_{tags[split]}_Data')
        gt = osp.join(root, f'ISIC-2017_{tags[split]}_Part1_GroundTruth')
        out[split] = {}
        for _ in range(n):
            stem = f'ISIC_{idx:07d}'
            idx += 1
            _write(osp.join(data, stem + '.jpg'), _image(rng, *size))
            _write(osp.join(data, stem + '_superpixels.png'),
                   _image(rng, *size))
            mask = np.where(_noisy_mask(rng, *size) >= 128, 255, 0)
            mask_path = osp.join(gt, stem + '_segmentation.png')
            _write(mask_path, mask.astype(np.uint8))
            out[split][stem] = mask_path
        with open(osp.join(data, f'ISIC-2017_{tags[split]}_Data_metadata.csv'),
                  'w') as f:
            f.write('image_id,age_approximate,sex\n')
    return out


def make_msd_prostate_tree(root: str,
                           depths: Sequence[int] = (3, 2, 4),
                           shape_xy=(10, 8),
                           spacing=(0.6, 0.7, 3.6),
                           seed: int = 4) -> Dict[str, dict]:
    """``Task05_Prostate/{imagesTr,labelsTr,imagesTs}`` + ``dataset.json``.

    Images are 4-D ``(X, Y, Z, 2)`` float (T2, ADC); labels 3-D with
    0 background, 1 PZ, 2 TZ. A macOS ``._`` fork sits next to the images,
    as in the released tar.

    Returns:
        dict: volume id -> dict(label=(X, Y, Z) array, depth=Z).
    """
    rng = np.random.default_rng(seed)
    affine = np.diag(list(spacing) + [1.0])
    os.makedirs(osp.join(root, 'imagesTr'), exist_ok=True)
    os.makedirs(osp.join(root, 'labelsTr'), exist_ok=True)
    os.makedirs(osp.join(root, 'imagesTs'), exist_ok=True)
    training, out = [], {}
    for i, depth in enumerate(depths):
        vol = f'prostate_{i:02d}'
        x, y = shape_xy
        image = rng.normal(500, 100, (x, y, depth, 2)).astype(np.float32)
        label = np.zeros((x, y, depth), np.uint8)
        label[2:6, 2:5, :] = 2
        label[6:8, 2:5, :] = 1
        label[:, :, 0] = 0  # an empty first slice
        nib.save(nib.Nifti1Image(image, affine),
                 osp.join(root, 'imagesTr', vol + '.nii.gz'))
        nib.save(nib.Nifti1Image(label, affine),
                 osp.join(root, 'labelsTr', vol + '.nii.gz'))
        training.append(
            dict(image=f'./imagesTr/{vol}.nii.gz',
                 label=f'./labelsTr/{vol}.nii.gz'))
        out[vol] = dict(label=label, depth=depth)
    with open(osp.join(root, 'imagesTr', '._prostate_00.nii.gz'), 'wb') as f:
        f.write(b'\x00\x05\x16\x07 not a nifti')
    meta = dict(
        name='PROSTATE',
        tensorImageSize='4D',
        modality={'0': 'T2', '1': 'ADC'},
        labels={'0': 'background', '1': 'PZ', '2': 'TZ'},
        numTraining=len(depths),
        numTest=0,
        training=training,
        test=[])
    with open(osp.join(root, 'dataset.json'), 'w') as f:
        json.dump(meta, f)
    return out


def tree_snapshot(root: str) -> Dict[str, tuple]:
    """(size, mtime) of every file, to prove a converter wrote nothing."""
    snap = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = osp.join(dirpath, name)
            st = os.stat(path)
            snap[osp.relpath(path, root)] = (st.st_size, st.st_mtime_ns)
    return snap


def point_dataset_to(dataset_cfg: dict, data_root: str) -> dict:
    """Set ``data_root`` of a dataset config and of any wrapped datasets."""
    if 'datasets' in dataset_cfg:
        for sub in dataset_cfg['datasets']:
            point_dataset_to(sub, data_root)
    elif 'dataset' in dataset_cfg:
        point_dataset_to(dataset_cfg['dataset'], data_root)
    else:
        dataset_cfg['data_root'] = data_root
    return dataset_cfg


def make_medical_2d_tree(root: str, num: int = 3, size=(24, 20),
                         num_classes: int = 4, seed: int = 5) -> dict:
    """Layout of ``configs/_base_/datasets/hip_xray.py`` (no public source).

    Returns:
        dict: name -> dict(mask=array, spacing=[r, c]).
    """
    rng = np.random.default_rng(seed)
    out, meta = {}, {}
    h, w = size
    for i in range(num):
        name = f'case{i:02d}'
        _write(osp.join(root, 'images', name + '.png'), _image(rng, h, w))
        mask = np.zeros((h, w), np.uint8)
        for c in range(1, num_classes):  # one block per class
            mask[2 + 5 * (c - 1):5 + 5 * (c - 1), 2 + i:8 + i] = c
        _write(osp.join(root, 'masks', name + '.png'), mask)
        spacing = [0.1 + 0.01 * i, 0.12]
        meta[name] = dict(spacing=spacing)
        out[name] = dict(mask=mask, spacing=spacing)
    names = sorted(out)
    os.makedirs(osp.join(root, 'splits'), exist_ok=True)
    with open(osp.join(root, 'splits', 'train.txt'), 'w') as f:
        f.write('\n'.join(names[:-1]) + '\n')
    with open(osp.join(root, 'splits', 'val.txt'), 'w') as f:
        f.write(names[-1] + '\n')
    with open(osp.join(root, 'meta.json'), 'w') as f:
        json.dump(meta, f)
    return out

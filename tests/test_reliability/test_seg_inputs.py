"""Bad segmentation inputs: each error names the file and what was expected."""
import glob
import os
import os.path as osp

import cv2
import nibabel as nib
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope

import mmplugin_transfuse  # noqa: F401
from mmplugin_transfuse.data_prep.conversion import DatasetLayoutError
from mmplugin_transfuse.data_prep.msd import load_case
from mmplugin_transfuse.utils import CheckedLoadImageFromFile
from mmseg.registry import DATASETS, MODELS
from tests.conftest import CONFIG_ROOT, load_tool
from tests.test_seg.test_datasets.fake_trees import make_msd_prostate_tree

DATASET_CONFIGS = osp.join(CONFIG_ROOT, '_base_', 'datasets')
SYNTHETIC = osp.join(DATASET_CONFIGS, 'synthetic_polyp.py')
HIP = osp.join(DATASET_CONFIGS, 'hip_xray.py')
# the README demo config (its schedule part of the name may change)
TRANSFUSE_SYNTHETIC = sorted(glob.glob(osp.join(
    CONFIG_ROOT, 'transfuse',
    'transfuse-s_r34-deit-s_1xb8-*_synthetic-polyp-128x128.py')))[0]


def _polyp_tree(root, names=('a', 'b', 'c'), size=(40, 48), seed=0):
    """Raw Kvasir-SEG layout: ``{images,masks}/*.jpg`` (0/255 JPEG masks)."""
    rng = np.random.default_rng(seed)
    os.makedirs(osp.join(root, 'images'), exist_ok=True)
    os.makedirs(osp.join(root, 'masks'), exist_ok=True)
    os.makedirs(osp.join(root, 'splits'), exist_ok=True)
    h, w = size
    for name in names:
        img = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
        mask = np.zeros((h, w), np.uint8)
        mask[5:20, 8:30] = 255
        cv2.imwrite(osp.join(root, 'images', name + '.jpg'), img)
        cv2.imwrite(osp.join(root, 'masks', name + '.jpg'), mask)
    with open(osp.join(root, 'splits', 'train.txt'), 'w') as f:
        f.write('\n'.join(names) + '\n')
    return root


def _dataset(config, root, split='train', **overrides):
    """The dataset of a real base config, pointed at ``root``."""
    init_default_scope('mmseg')
    cfg = Config.fromfile(config)
    ds = cfg[f'{split}_dataloader'].dataset
    ds.data_root = root
    ds.update(overrides)
    return DATASETS.build(ds)


def test_one_checked_loader_class_in_both_scopes():
    import mmdet.registry as det_reg
    import mmseg.registry as seg_reg
    from mmplugin_transfuse.det.datasets import \
        CheckedLoadImageFromFile as det_loader
    assert seg_reg.TRANSFORMS.get('CheckedLoadImageFromFile') is \
        CheckedLoadImageFromFile
    assert det_reg.TRANSFORMS.get('CheckedLoadImageFromFile') is \
        CheckedLoadImageFromFile
    assert det_loader is CheckedLoadImageFromFile


@pytest.mark.parametrize('damage, message', [
    (lambda data: b'', r'image file is empty \(0 bytes\)'),
    (lambda data: data[:len(data) * 3 // 4], 'truncated JPEG image'),
    (lambda data: b'GIF89a but not really an image', 'not a readable image'),
])
def test_bad_image_file_stops_the_seg_pipeline(tmp_path, damage, message):
    root = _polyp_tree(str(tmp_path / 'polyp'))
    path = osp.join(root, 'images', 'b.jpg')
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(damage(data))
    # the training pipeline checks; test pipelines keep mmcv's stock loader
    # (the Inferencers find it by name), see test_seg_base_configs_...
    ds = _dataset(SYNTHETIC, root, 'train', ann_file='splits/train.txt')
    assert ds[0]['inputs'].shape[0] == 3  # the intact sample loads
    with pytest.raises(ValueError, match=message) as err:
        ds[1]
    assert path in str(err.value)


def test_bad_mask_file_is_named(tmp_path):
    root = _polyp_tree(str(tmp_path / 'polyp'))
    path = osp.join(root, 'masks', 'a.jpg')
    open(path, 'wb').close()
    ds = _dataset(SYNTHETIC, root)
    with pytest.raises(ValueError, match=r'mask file is empty') as err:
        ds[0]
    assert path in str(err.value)


def test_mask_of_another_size_names_both_files(tmp_path):
    root = _polyp_tree(str(tmp_path / 'polyp'))
    mask_path = osp.join(root, 'masks', 'c.jpg')
    cv2.imwrite(mask_path, np.zeros((30, 48), np.uint8))
    for split in ('train', 'val'):  # val loads the mask after Resize
        ds = _dataset(SYNTHETIC, root, split, ann_file='splits/train.txt')
        with pytest.raises(ValueError) as err:
            ds[2]
        msg = str(err.value)
        assert mask_path in msg and osp.join(root, 'images', 'c.jpg') in msg
        assert '30x48' in msg and '40x48' in msg


def test_noisy_jpeg_mask_is_binarised_at_128(tmp_path):
    """Documented rule: pixels >= 128 of a 0/255 mask become class 1."""
    root = _polyp_tree(str(tmp_path / 'polyp'), names=('a', ))
    rng = np.random.default_rng(1)
    noisy = rng.integers(0, 256, (40, 48), dtype=np.uint8)
    cv2.imwrite(osp.join(root, 'masks', 'a.png'), noisy)  # lossless
    # the test pipeline keeps the mask at its own size (loaded after Resize)
    ds = _dataset(SYNTHETIC, root, 'val', ann_file='splits/train.txt',
                  seg_map_suffix='.png')
    seg = ds[0]['data_samples'].gt_sem_seg.data[0].numpy()
    np.testing.assert_array_equal(seg, (noisy >= 128).astype(np.uint8))
    # the training pipeline (flips, resize) only ever sees 0/1
    ds = _dataset(SYNTHETIC, root, seg_map_suffix='.png')
    seg = ds[0]['data_samples'].gt_sem_seg.data[0].numpy()
    assert set(np.unique(seg).tolist()) == {0, 1}


def test_mask_values_outside_the_classes(tmp_path):
    init_default_scope('mmseg')
    root = _polyp_tree(str(tmp_path / 'polyp'), names=('a', 'b'))
    mask = np.zeros((40, 48), np.uint8)
    mask[:5] = 1
    mask[5:10] = 255  # the ignore index is allowed
    cv2.imwrite(osp.join(root, 'masks', 'a.png'), mask)
    mask[10:12] = 3
    mask[12:14] = 7
    cv2.imwrite(osp.join(root, 'masks', 'b.png'), mask)
    pipeline = [
        dict(type='CheckedLoadImageFromFile'),
        dict(type='CheckedLoadAnnotations'),
        dict(type='PackSegInputs')
    ]
    ds = DATASETS.build(
        dict(type='PolypDataset', data_root=root, seg_map_suffix='.png',
             data_prefix=dict(img_path='images', seg_map_path='masks'),
             pipeline=pipeline))
    seg = ds[0]['data_samples'].gt_sem_seg.data[0].numpy()
    assert set(np.unique(seg).tolist()) == {0, 1, 255}
    path = osp.join(root, 'masks', 'b.png')
    with pytest.raises(ValueError, match=r'values \[3, 7\].*0\.\.1') as err:
        ds[1]
    assert path in str(err.value)

    # a raw 0/255 mask needs binarisation: the error says so
    noisy = np.full((40, 48), 250, np.uint8)
    noisy[:10] = 0
    cv2.imwrite(osp.join(root, 'masks', 'a.png'), noisy)
    with pytest.raises(ValueError, match='binarize_threshold=128'):
        ds[0]


def test_class_id_mask_of_multiclass_config(tmp_path):
    """hip_xray.py: 4 classes, so id 4 is an error, 0..3 and 255 are not."""
    root = str(tmp_path / 'hip')
    rng = np.random.default_rng(0)
    os.makedirs(osp.join(root, 'images'))
    os.makedirs(osp.join(root, 'masks'))
    os.makedirs(osp.join(root, 'splits'))
    for name, top in (('ok', 3), ('bad', 4)):
        cv2.imwrite(osp.join(root, 'images', name + '.png'),
                    rng.integers(0, 255, (24, 20), dtype=np.uint8))
        mask = np.zeros((24, 20), np.uint8)
        mask[:4], mask[4:8], mask[8:10] = top, 2, 255
        cv2.imwrite(osp.join(root, 'masks', name + '.png'), mask)
    with open(osp.join(root, 'splits', 'val.txt'), 'w') as f:
        f.write('ok\nbad\n')
    ds = _dataset(HIP, root, 'val', meta_file=None, spacing=(0.1, 0.1))
    assert ds.get_data_info(0)['num_classes'] == 4
    seg = ds[0]['data_samples'].gt_sem_seg.data[0].numpy()
    assert set(np.unique(seg).tolist()) == {0, 2, 3, 255}
    with pytest.raises(ValueError, match=r'values \[4\].*ids 0\.\.3') as err:
        ds[1]
    assert osp.join(root, 'masks', 'bad.png') in str(err.value)


def test_unmatched_images_and_masks_fail_at_construction(tmp_path):
    init_default_scope('mmseg')
    root = _polyp_tree(str(tmp_path / 'polyp'),
                       names=[f'n{i}' for i in range(8)])
    for i in range(5):  # 5 images lose their mask
        os.remove(osp.join(root, 'masks', f'n{i}.jpg'))
    cv2.imwrite(osp.join(root, 'masks', 'orphan.jpg'),
                np.zeros((4, 4), np.uint8))
    common = dict(type='PolypDataset', data_root=root,
                  data_prefix=dict(img_path='images', seg_map_path='masks'))
    with pytest.raises(FileNotFoundError) as err:
        DATASETS.build(common)  # samples listed from the image folder
    msg = str(err.value)
    assert "images without a mask" in msg and '5 name(s)' in msg
    assert "['n0', 'n1', 'n2'] and 2 more" in msg
    assert "masks without an image" in msg and "1 name(s): ['orphan']" in msg

    # a split file naming a sample without an image (extra masks are fine)
    os.remove(osp.join(root, 'masks', 'orphan.jpg'))
    with open(osp.join(root, 'splits', 'val.txt'), 'w') as f:
        f.write('n6\nn7\nghost\n')
    with pytest.raises(FileNotFoundError) as err:
        DATASETS.build(dict(common, ann_file='splits/val.txt'))
    msg = str(err.value)
    assert "without an image" in msg and "1 name(s): ['ghost']" in msg
    assert "without a mask" in msg
    with open(osp.join(root, 'splits', 'val.txt'), 'w') as f:
        f.write('n6\nn7\n')
    assert len(DATASETS.build(dict(common, ann_file='splits/val.txt'))) == 2

    # an empty or missing image folder
    os.makedirs(osp.join(root, 'empty'))
    with pytest.raises(FileNotFoundError, match='no sample found'):
        DATASETS.build(dict(common, data_prefix=dict(img_path='empty')))
    with pytest.raises(FileNotFoundError, match='nowhere'):
        DATASETS.build(dict(common, data_prefix=dict(img_path='nowhere')))


def test_isic_folder_with_unmatched_files(tmp_path):
    init_default_scope('mmseg')
    root = str(tmp_path / 'isic')
    for d in ('images/train', 'masks/train'):
        os.makedirs(osp.join(root, d))
    img = np.zeros((8, 8, 3), np.uint8)
    for name in ('ISIC_1', 'ISIC_2'):
        cv2.imwrite(osp.join(root, 'images/train', name + '.jpg'), img)
    cv2.imwrite(osp.join(root, 'masks/train', 'ISIC_1.png'), img[..., 0])
    cv2.imwrite(osp.join(root, 'masks/train', 'ISIC_9.png'), img[..., 0])
    with pytest.raises(FileNotFoundError) as err:
        _dataset(osp.join(DATASET_CONFIGS, 'isic2017.py'), root)
    msg = str(err.value)
    assert 'ISIC2017Dataset' in msg
    assert "without a mask" in msg and "['ISIC_2']" in msg
    assert "without an image" in msg and "['ISIC_9']" in msg


def test_prostate_slice_without_a_modality(tmp_path):
    src, out = str(tmp_path / 'Task05'), str(tmp_path / 'prostate')
    make_msd_prostate_tree(src, depths=(2, 2), shape_xy=(10, 8))
    load_tool('dataset_converters/prostate_msd.py').main(
        [src, '--out', out, '--val-ratio', '0.5'])
    ds = _dataset(osp.join(DATASET_CONFIGS, 'prostate_msd.py'), out)
    item = ds[0]
    assert item['inputs'].shape[0] == 3
    # a truncated modality PNG is named by the multi-modal loader
    adc = ds.get_data_info(0)['modality_paths'][1]
    with open(adc, 'rb') as f:
        data = f.read()
    with open(adc, 'wb') as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(ValueError, match='truncated PNG') as err:
        ds[0]
    assert adc in str(err.value)
    os.remove(adc)
    with pytest.raises(FileNotFoundError, match='modality') as err:
        _dataset(osp.join(DATASET_CONFIGS, 'prostate_msd.py'), out)
    assert osp.basename(adc) in str(err.value)


@pytest.mark.parametrize('kind', ['gray', 'rgba'])
def test_gray_and_rgba_images_become_three_channels(tmp_path, kind):
    init_default_scope('mmseg')
    rng = np.random.default_rng(3)
    bgr = rng.integers(0, 255, (20, 24, 3), dtype=np.uint8)
    if kind == 'gray':
        array = bgr[..., 0]
        expected = np.repeat(array[..., None], 3, axis=2)
    else:
        alpha = rng.integers(0, 255, (20, 24, 1), dtype=np.uint8)
        array = np.concatenate([bgr, alpha], axis=2)  # alpha dropped
        expected = bgr
    path = str(tmp_path / f'{kind}.png')
    cv2.imwrite(path, array)
    assert cv2.imread(path, cv2.IMREAD_UNCHANGED).shape == array.shape
    out = Compose([dict(type='CheckedLoadImageFromFile')])(
        dict(img_path=path))
    assert out['img'].shape == (20, 24, 3)
    np.testing.assert_array_equal(out['img'], expected)


def test_transfuse_predicts_200x200_at_its_size(tmp_path):
    """200 is not a multiple of 16: the data preprocessor pads to 208 and
    the prediction is cropped back to the original 200x200."""
    init_default_scope('mmseg')
    torch.manual_seed(0)
    cfg = Config.fromfile(TRANSFUSE_SYNTHETIC)
    model = MODELS.build(cfg.model).eval()
    path = str(tmp_path / 'x.jpg')
    cv2.imwrite(path, np.random.default_rng(0).integers(
        0, 255, (200, 200, 3), dtype=np.uint8))
    no_resize = [s for s in cfg.test_pipeline
                 if s['type'] not in ('Resize', 'CheckedLoadAnnotations')]
    for steps, fed in ((no_resize, (208, 208)),
                       ([s for s in cfg.test_pipeline
                         if s['type'] != 'CheckedLoadAnnotations'],
                        (128, 128))):
        data = pseudo_collate([Compose(steps)(dict(img_path=path))])
        with torch.no_grad():
            batch = model.data_preprocessor(data, False)
            assert tuple(batch['inputs'].shape[-2:]) == fed
            pred = model.predict(**batch)[0]
        assert pred.pred_sem_seg.data.shape == (1, 200, 200)
        assert pred.seg_logits.data.shape[-2:] == (200, 200)


def _nifti_case(root, image, label):
    os.makedirs(osp.join(root, 'imagesTr'), exist_ok=True)
    os.makedirs(osp.join(root, 'labelsTr'), exist_ok=True)
    affine = np.diag([0.6, 0.7, 3.6, 1.0])
    nib.save(nib.Nifti1Image(image, affine),
             osp.join(root, 'imagesTr', 'prostate_00.nii.gz'))
    nib.save(nib.Nifti1Image(label, affine),
             osp.join(root, 'labelsTr', 'prostate_00.nii.gz'))
    return dict(image='imagesTr/prostate_00.nii.gz',
                label='labelsTr/prostate_00.nii.gz')


def test_nifti_label_shape_differs_from_image(tmp_path):
    src = str(tmp_path / 'Task05')
    make_msd_prostate_tree(src, depths=(2, 2), shape_xy=(10, 8))
    lbl = osp.join(src, 'labelsTr', 'prostate_01.nii.gz')
    nib.save(nib.Nifti1Image(np.zeros((10, 8, 3), np.uint8), np.eye(4)), lbl)
    with pytest.raises(DatasetLayoutError) as err:
        load_tool('dataset_converters/prostate_msd.py').main(
            [src, '--out', str(tmp_path / 'out')])
    msg = str(err.value)
    assert lbl in msg and '(10, 8, 3)' in msg and '(10, 8, 2)' in msg
    assert not osp.exists(tmp_path / 'out')  # checked before writing
    # the loader shared with tools/eval_prostate_volumes.py says the same
    with pytest.raises(DatasetLayoutError, match=r'\(10, 8, 3\)'):
        load_case(src, dict(image='imagesTr/prostate_01.nii.gz',
                            label='labelsTr/prostate_01.nii.gz'), 2, [0, 1, 2])


def test_nifti_with_nan_voxels(tmp_path):
    src = str(tmp_path / 'Task05')
    image = np.ones((6, 5, 2, 2), np.float32)
    image[1, 2, 1, 0] = np.nan
    label = np.zeros((6, 5, 2), np.float32)
    case = _nifti_case(src, image, label)
    with pytest.raises(DatasetLayoutError) as err:
        load_case(src, case, 2, [0, 1, 2])
    msg = str(err.value)
    assert osp.join(src, 'imagesTr', 'prostate_00.nii.gz') in msg
    assert '1 NaN/inf voxel(s)' in msg and '(1, 2, 1, 0)' in msg

    image[1, 2, 1, 0] = 0
    label[0, 0, 0] = np.nan
    case = _nifti_case(src, image, label)
    with pytest.raises(DatasetLayoutError, match='labelsTr.*NaN'):
        load_case(src, case, 2, [0, 1, 2])
    label[0, 0, 0] = 1
    case = _nifti_case(src, image, label)
    assert load_case(src, case, 2, [0, 1, 2])[1][0, 0, 0] == 1


def _is_detection_base(path: str) -> bool:
    with open(path) as f:
        text = f.read()
    return 'PackDetInputs' in text or 'mmdet::' in text


SEG_DATASET_CONFIGS = sorted(
    p for p in glob.glob(osp.join(DATASET_CONFIGS, '*.py'))
    if not _is_detection_base(p)
    and osp.basename(p) != 'medical_seg_common.py')


def test_seg_dataset_bases_are_found():
    names = {osp.basename(p) for p in SEG_DATASET_CONFIGS}
    assert {'kvasir_seg.py', 'isic2017.py', 'prostate_msd.py',
            'hip_xray.py'} <= names


# detection bases (mmdet pipelines) are not seg bases; medical_seg_common.py
# holds only the loaders the seg bases share (no pipelines: each dataset base
# adds its own, and every one of them is checked here)
@pytest.mark.parametrize('config', SEG_DATASET_CONFIGS,
                         ids=lambda p: osp.basename(p))
def test_seg_base_configs_use_checked_loaders(config):
    cfg = Config.fromfile(config)
    for pipeline, loaders in (
        (cfg.train_pipeline, ('CheckedLoadImageFromFile',
                              'LoadMultiModalSliceFromFiles')),
            # MMSegInferencer replaces the step named 'LoadImageFromFile'
        (cfg.test_pipeline, ('LoadImageFromFile',
                             'LoadMultiModalSliceFromFiles'))):
        types = [s['type'] for s in pipeline]
        assert 'LoadAnnotations' not in types
        assert 'CheckedLoadAnnotations' in types
        assert types[0] in loaders

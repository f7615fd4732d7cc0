"""Converters run on fake trees in the real download layouts; the dataset
classes (built from the real dataset configs) then load the converted data.
"""
import json
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
from mmengine import Config
from mmengine.registry import init_default_scope

from mmplugin_transfuse.data_prep.conversion import DatasetLayoutError
from mmseg.registry import DATASETS
from tests.conftest import CONFIG_ROOT, load_tool
from tests.test_seg.test_datasets.fake_trees import (
    expected_binary, make_cvc_clinicdb_tree,
    make_isic2017_tree, make_kvasir_seg_tree, make_msd_prostate_tree,
    make_pranet_tree, point_dataset_to, tree_snapshot)


def _dataset(base: str, key: str, data_root: str):
    init_default_scope('mmseg')
    cfg = Config.fromfile(osp.join(CONFIG_ROOT, '_base_', 'datasets', base))
    return DATASETS.build(point_dataset_to(cfg[key].dataset, data_root))


def _gt(sample) -> np.ndarray:
    return sample['data_samples'].gt_sem_seg.data.numpy()[0]


# ----------------------------------------------------------------- polyp
def test_polyp_pranet_converter_and_dataset(tmp_path):
    src, out = str(tmp_path / 'PraNet'), str(tmp_path / 'polyp_pranet')
    masks = make_pranet_tree(src)
    before = tree_snapshot(src)
    counts = load_tool('dataset_converters/polyp_pranet.py').main(
        [src, '--out', out])
    assert tree_snapshot(src) == before  # the source is only read
    assert counts == {
        'train': 3, 'Kvasir': 2, 'CVC-ClinicDB': 1, 'CVC-ColonDB': 1,
        'CVC-300': 1, 'ETIS-LaribPolypDB': 2
    }
    for name, mask_path in masks['train'].items():
        written = cv2.imread(
            osp.join(out, 'train', 'masks', name + '.png'),
            cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(written, expected_binary(mask_path))

    train = _dataset('polyp_pranet.py', 'train_dataloader', out)
    assert len(train) == 3
    # class ids 0/1; 255 only where the training rotation padded (ignored)
    assert set(np.unique(_gt(train[0]))) <= {0, 1, 255}

    test = _dataset('polyp_pranet.py', 'test_dataloader', out)
    assert len(test) == 7  # five sets concatenated
    subsets = [test[i]['data_samples'].subset for i in range(len(test))]
    assert subsets == ['Kvasir', 'Kvasir', 'CVC-ClinicDB', 'CVC-ColonDB',
                       'CVC-300', 'ETIS-LaribPolypDB', 'ETIS-LaribPolypDB']
    item = test[0]
    name = osp.splitext(osp.basename(item['data_samples'].img_path))[0]
    # test masks are loaded at original size (after Resize) and are 0/1
    np.testing.assert_array_equal(
        _gt(item), expected_binary(masks['Kvasir'][name]))


def test_polyp_pranet_converter_errors(tmp_path):
    tool = load_tool('dataset_converters/polyp_pranet.py')
    src = str(tmp_path / 'PraNet')
    make_pranet_tree(src)
    # the training set uses singular folder names: plural ones are an error
    os.rename(osp.join(src, 'TrainDataset', 'image'),
              osp.join(src, 'TrainDataset', 'images'))
    with pytest.raises(DatasetLayoutError, match=r'TrainDataset/image '):
        tool.main([src, '--out', str(tmp_path / 'o1')])
    os.rename(osp.join(src, 'TrainDataset', 'images'),
              osp.join(src, 'TrainDataset', 'image'))
    shutil.rmtree(osp.join(src, 'TestDataset', 'CVC-300'))
    with pytest.raises(DatasetLayoutError, match='CVC-300'):
        tool.main([src, '--out', str(tmp_path / 'o2')])
    assert not osp.exists(tmp_path / 'o2')  # checked before writing
    # an image without its mask is named
    tool.main([src, '--out', str(tmp_path / 'o3'), '--test-sets', 'Kvasir'])
    os.remove(osp.join(src, 'TestDataset', 'Kvasir', 'masks', 'kva1.png'))
    with pytest.raises(DatasetLayoutError, match='kva1.png'):
        tool.main([src, '--out', str(tmp_path / 'o4'), '--test-sets',
                   'Kvasir'])
    # a corrupt mask is named
    bad = osp.join(src, 'TestDataset', 'Kvasir', 'masks', 'kva1.png')
    with open(bad, 'wb') as f:
        f.write(b'not a png')
    with pytest.raises(DatasetLayoutError, match='cannot read image .*kva1'):
        tool.main([src, '--out', str(tmp_path / 'o5'), '--test-sets',
                   'Kvasir'])
    with pytest.raises(ValueError, match='inside the source'):
        tool.main([src, '--out', osp.join(src, 'converted')])


def test_polyp_converter_rejects_class_id_masks(tmp_path):
    src = str(tmp_path / 'PraNet')
    masks = make_pranet_tree(src, num_test=(1, 1, 1, 1, 1))
    path = masks['Kvasir']['kva0']
    cv2.imwrite(path, (cv2.imread(path, 0) >= 128).astype(np.uint8))
    with pytest.raises(DatasetLayoutError, match='maximum value 1'):
        load_tool('dataset_converters/polyp_pranet.py').main(
            [src, '--out', str(tmp_path / 'out')])


def test_kvasir_seg_converter_and_dataset(tmp_path):
    src, out = str(tmp_path / 'Kvasir-SEG'), str(tmp_path / 'kvasir_seg')
    masks = make_kvasir_seg_tree(src, num=5)
    before = tree_snapshot(src)
    counts = load_tool('dataset_converters/kvasir_seg.py').main(
        [src, '--out', out, '--val-ratio', '0.2', '--seed', '0'])
    assert tree_snapshot(src) == before
    assert counts == dict(total=5, train=4, val=1)
    # images are copied byte for byte (no second JPEG compression)
    name = sorted(masks)[0]
    with open(osp.join(src, 'images', name + '.jpg'), 'rb') as a, open(
            osp.join(out, 'images', name + '.jpg'), 'rb') as b:
        assert a.read() == b.read()
    train = _dataset('kvasir_seg.py', 'train_dataloader', out)
    val = _dataset('kvasir_seg.py', 'val_dataloader', out)
    assert (len(train), len(val)) == (4, 1)
    item = val[0]
    name = osp.splitext(osp.basename(item['data_samples'].img_path))[0]
    # JPEG masks are noisy: binarised at 128
    np.testing.assert_array_equal(_gt(item), expected_binary(masks[name]))


def test_cvc_clinicdb_tiff_converter_and_dataset(tmp_path):
    src, out = str(tmp_path / 'CVC-ClinicDB'), str(tmp_path / 'cvc')
    masks = make_cvc_clinicdb_tree(src, num=3)
    counts = load_tool('dataset_converters/cvc_clinicdb.py').main(
        [src, '--out', out, '--val-ratio', '0.34'])
    assert counts == dict(total=3, train=2, val=1)
    img = cv2.imread(osp.join(out, 'images', '2.png'))
    np.testing.assert_array_equal(
        img, cv2.imread(osp.join(src, 'Original', '2.tif')))
    train = _dataset('cvc_clinicdb.py', 'train_dataloader', out)
    val = _dataset('cvc_clinicdb.py', 'val_dataloader', out)
    assert len(train) + len(val) == 3
    item = val[0]
    name = osp.splitext(osp.basename(item['data_samples'].img_path))[0]
    np.testing.assert_array_equal(_gt(item), expected_binary(masks[name]))
    os.remove(osp.join(src, 'Ground Truth', '3.tif'))
    with pytest.raises(DatasetLayoutError, match='3.tif'):
        load_tool('dataset_converters/cvc_clinicdb.py').main(
            [src, '--out', str(tmp_path / 'o2')])


def test_paired_folder_layouts_share_one_converter(tmp_path):
    """Both CLIs run the same converter; only the layout differs. Split
    files list names in natural order (CVC-ClinicDB frames are numbers)."""
    from mmplugin_transfuse.data_prep.paired_folders import (
        CVC_CLINICDB, KVASIR_SEG, convert_paired_folders)
    src = str(tmp_path / 'CVC-ClinicDB')
    make_cvc_clinicdb_tree(src, num=11, size=(6, 8))
    counts = convert_paired_folders(CVC_CLINICDB, src, str(tmp_path / 'o'),
                                    val_ratio=0.3, seed=1)
    assert counts == dict(total=11, train=8, val=3)
    names = []
    for split in ('train', 'val'):
        with open(tmp_path / 'o' / 'splits' / f'{split}.txt') as f:
            part = f.read().split()
        assert part == sorted(part, key=int)  # '2' before '10'
        names += part
    assert sorted(names, key=int) == [str(i) for i in range(1, 12)]
    # a Kvasir-SEG folder is not a CVC-ClinicDB folder: the layout's folder
    # is named in the error
    kvasir = str(tmp_path / 'Kvasir-SEG')
    make_kvasir_seg_tree(kvasir, num=2)
    with pytest.raises(DatasetLayoutError, match='Original.*CVC-ClinicDB'):
        convert_paired_folders(CVC_CLINICDB, kvasir, str(tmp_path / 'o2'))
    assert convert_paired_folders(KVASIR_SEG, kvasir, str(tmp_path / 'o3'),
                                  val_ratio=0.5)['total'] == 2


# ------------------------------------------------------------------- ISIC
def test_isic2017_converter_and_dataset(tmp_path):
    src, out = str(tmp_path / 'ISIC'), str(tmp_path / 'isic2017')
    masks = make_isic2017_tree(src)
    before = tree_snapshot(src)
    counts = load_tool('dataset_converters/isic2017.py').main(
        [src, '--out', out])
    assert tree_snapshot(src) == before
    assert counts == dict(train=3, val=1, test=2)
    # superpixel files are not samples
    assert sorted(os.listdir(osp.join(out, 'images', 'train'))) == [
        'ISIC_0000000.jpg', 'ISIC_0000001.jpg', 'ISIC_0000002.jpg'
    ]
    for key, split in (('train_dataloader', 'train'),
                       ('val_dataloader', 'val'),
                       ('test_dataloader', 'test')):
        ds = _dataset('isic2017.py', key, out)
        assert len(ds) == len(masks[split])
    test = _dataset('isic2017.py', 'test_dataloader', out)
    item = test[1]
    assert item['inputs'].shape == (3, 192, 256)  # config's (h, w)
    np.testing.assert_array_equal(
        _gt(item), expected_binary(masks['test']['ISIC_0000005']))


def test_isic2017_converter_resize_and_errors(tmp_path):
    tool = load_tool('dataset_converters/isic2017.py')
    src = str(tmp_path / 'ISIC')
    make_isic2017_tree(src)
    out = str(tmp_path / 'resized')
    tool.main([src, '--out', out, '--size', '12', '16', '--splits', 'val'])
    img = cv2.imread(osp.join(out, 'images', 'val', 'ISIC_0000003.jpg'))
    mask = cv2.imread(
        osp.join(out, 'masks', 'val', 'ISIC_0000003.png'),
        cv2.IMREAD_UNCHANGED)
    assert img.shape == (12, 16, 3) and mask.shape == (12, 16)
    assert set(np.unique(mask)) <= {0, 1}
    os.remove(
        osp.join(src, 'ISIC-2017_Training_Part1_GroundTruth',
                 'ISIC_0000001_segmentation.png'))
    with pytest.raises(DatasetLayoutError, match='ISIC_0000001.jpg'):
        tool.main([src, '--out', str(tmp_path / 'o2')])
    shutil.rmtree(osp.join(src, 'ISIC-2017_Test_v2_Data'))
    with pytest.raises(DatasetLayoutError, match='ISIC-2017_Test_v2_Data'):
        tool.main([src, '--out', str(tmp_path / 'o3'), '--splits', 'test'])


# --------------------------------------------------------------- prostate
def test_prostate_msd_converter_and_dataset(tmp_path):
    src, out = str(tmp_path / 'Task05_Prostate'), str(tmp_path / 'prostate')
    volumes = make_msd_prostate_tree(src)
    before = tree_snapshot(src)
    counts = load_tool('dataset_converters/prostate_msd.py').main(
        [src, '--out', out, '--val-ratio', '0.34'])
    assert tree_snapshot(src) == before
    assert counts['volumes'] == 3
    assert counts['train_volumes'] == 2 and counts['val_volumes'] == 1
    with open(osp.join(out, 'splits', 'val_volumes.txt')) as f:
        val_vol = f.read().split()[0]
    assert counts['val_slices'] == volumes[val_vol]['depth']
    assert counts['train_slices'] == 9 - volumes[val_vol]['depth']
    with open(osp.join(out, 'slices.json')) as f:
        slices = json.load(f)
    assert slices['prostate_02_s003'] == dict(
        volume_id='prostate_02', slice_idx=3, num_slices=4,
        spacing=pytest.approx([0.6, 0.7, 3.6]))

    train = _dataset('prostate_msd.py', 'train_dataloader', out)
    val = _dataset('prostate_msd.py', 'val_dataloader', out)
    assert len(train) == counts['train_slices']
    assert len(val) == counts['val_slices']
    info = val.get_data_info(1)
    assert info['volume_id'] == val_vol and info['slice_idx'] == 1
    assert len(info['modality_paths']) == 2
    item = val[1]
    ds = item['data_samples']
    assert ds.volume_id == val_vol and ds.slice_idx == 1
    assert ds.spacing == pytest.approx([0.6, 0.7, 3.6])
    assert item['inputs'].shape == (3, 320, 320)
    # T2, ADC, T2 (config's modality_channels): channels 0 and 2 are equal
    assert np.array_equal(item['inputs'][0], item['inputs'][2])
    assert not np.array_equal(item['inputs'][0], item['inputs'][1])
    np.testing.assert_array_equal(_gt(item),
                                  volumes[val_vol]['label'][:, :, 1])
    assert set(np.unique(_gt(item))) == {0, 1, 2}


def test_prostate_msd_converter_errors(tmp_path):
    tool = load_tool('dataset_converters/prostate_msd.py')
    src = str(tmp_path / 'Task05_Prostate')
    make_msd_prostate_tree(src, depths=(2, 2))
    os.remove(osp.join(src, 'labelsTr', 'prostate_01.nii.gz'))
    with pytest.raises(DatasetLayoutError, match='prostate_01.nii.gz'):
        tool.main([src, '--out', str(tmp_path / 'o1')])
    assert not osp.exists(tmp_path / 'o1')  # checked before writing
    os.remove(osp.join(src, 'dataset.json'))
    with pytest.raises(DatasetLayoutError, match='dataset.json'):
        tool.main([src, '--out', str(tmp_path / 'o2')])


def test_prostate_msd_converter_rejects_3d_image(tmp_path):
    import nibabel as nib
    src = str(tmp_path / 'Task05_Prostate')
    make_msd_prostate_tree(src, depths=(2, ))
    path = osp.join(src, 'imagesTr', 'prostate_00.nii.gz')
    nib.save(nib.Nifti1Image(np.zeros((10, 8, 2), np.float32), np.eye(4)),
             path)
    with pytest.raises(DatasetLayoutError, match=r'prostate_00.nii.gz has '
                       r'shape \(10, 8, 2\)'):
        load_tool('dataset_converters/prostate_msd.py').main(
            [src, '--out', str(tmp_path / 'out')])

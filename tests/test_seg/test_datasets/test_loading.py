"""LoadMultiModalSliceFromFiles first in a pipeline, after LoadImageFromFile
(the prostate test pipelines) and on bare images (the Inferencers)."""
import os.path as osp

import cv2
import numpy as np
import pytest
from mmcv.transforms import LoadImageFromFile
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from mmplugin_transfuse.seg.datasets import LoadMultiModalSliceFromFiles
from tests.conftest import CONFIG_ROOT, load_tool
from .fake_trees import make_msd_prostate_tree, point_dataset_to

PROSTATE_BASE = osp.join(CONFIG_ROOT, '_base_', 'datasets', 'prostate_msd.py')


@pytest.fixture(scope='module')
def prostate_root(tmp_path_factory) -> str:
    tmp = tmp_path_factory.mktemp('prostate')
    make_msd_prostate_tree(str(tmp / 'src'), depths=(2, 1))
    load_tool('dataset_converters/prostate_msd.py').main(
        [str(tmp / 'src'), '--out', str(tmp / 'out'), '--val-ratio', '0'])
    return str(tmp / 'out')


def _grey(path: str) -> np.ndarray:
    return cv2.imread(path, cv2.IMREAD_GRAYSCALE)


def test_prostate_test_pipeline_stacks_what_the_training_loader_does(
        prostate_root):
    init_default_scope('mmseg')
    cfg = Config.fromfile(PROSTATE_BASE)
    # the Inferencers replace the step named exactly LoadImageFromFile
    assert cfg.test_pipeline[0] == dict(
        type='LoadImageFromFile', color_type='grayscale')
    ds_cfg = point_dataset_to(cfg.train_dataloader.dataset.copy(),
                              prostate_root)
    ds_cfg.ann_file = 'splits/train.txt'
    ds_cfg.pipeline = cfg.test_pipeline
    dataset = DATASETS.build(ds_cfg)
    assert len(dataset) == 3
    info = dataset.get_data_info(1)
    t2, adc = (_grey(p) for p in info['modality_paths'])
    first_only = LoadMultiModalSliceFromFiles()(dict(info))['img']
    after_loader = Compose(cfg.test_pipeline[:2])(dict(info))['img']
    # T2 / ADC / T2, read once each, in both placements
    np.testing.assert_array_equal(after_loader, np.stack([t2, adc, t2], -1))
    np.testing.assert_array_equal(after_loader, first_only)
    packed = dataset[1]
    assert tuple(packed['inputs'].shape) == (3, 320, 320)
    assert packed['data_samples'].volume_id == info['volume_id']


def test_bare_images_as_the_inferencers_give_them(tmp_path):
    rng = np.random.default_rng(0)
    t2, adc = (rng.integers(0, 255, (9, 7), dtype=np.uint8) for _ in '01')
    for k, plane in enumerate((t2, adc)):
        cv2.imwrite(str(tmp_path / f'case_s001_{k:04d}.png'), plane)
    t2_file = str(tmp_path / 'case_s001_0000.png')
    load = LoadImageFromFile(color_type='grayscale')
    two = LoadMultiModalSliceFromFiles(channels=(0, 1))

    # a file path: the other modality is read from the file next to it
    out = two(load(dict(img_path=t2_file)))
    np.testing.assert_array_equal(out['img'], np.stack([t2, adc], -1))
    assert out['ori_shape'] == (9, 7)
    out = LoadMultiModalSliceFromFiles(channels=(1, 1, 0))(
        load(dict(img_path=t2_file)))
    np.testing.assert_array_equal(out['img'], np.stack([adc, adc, t2], -1))
    # an array that holds the model's channels is kept as it is
    stacked = np.stack([adc, t2], -1)
    assert two(dict(img=stacked, img_path=None))['img'] is stacked
    # anything else names what the model takes
    with pytest.raises(ValueError, match=r'2 channels.*array of shape '
                       r'\(9, 7, 3\).*\(H, W, 2\) array'):
        two(dict(img=np.zeros((9, 7, 3), np.uint8), img_path=None))
    cv2.imwrite(str(tmp_path / 'photo.png'), t2)
    with pytest.raises(ValueError, match=r'photo.png.*<name>_0000.png'):
        two(load(dict(img_path=str(tmp_path / 'photo.png'))))
    cv2.imwrite(str(tmp_path / 'lone_0000.png'), t2)
    with pytest.raises(FileNotFoundError, match='lone_0001.png'):
        two(load(dict(img_path=str(tmp_path / 'lone_0000.png'))))
    # modality 0 loaded in colour cannot be one channel of the stack
    with pytest.raises(ValueError, match="color_type='grayscale'"):
        two(LoadImageFromFile()(dict(img_path=t2_file)))

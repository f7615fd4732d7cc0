"""mmseg's MMSegInferencer and mmdet's DetInferencer run the package configs.

Every config under ``configs/`` is built by the Inferencer of its
``default_scope`` (random weights: ``weights=None`` builds the model without
``init_weights``, so no pretrained file is fetched) and predicts one small
image; the test pipeline's ``Resize`` and the data preprocessor's padding
size are shrunk to 64x64 (the model is the config's own).
"""
import glob
import os.path as osp
import socket

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from tests.conftest import CONFIG_ROOT, load_tool

SIZE = 64
CONFIGS = sorted(
    osp.relpath(p, CONFIG_ROOT)
    for p in glob.glob(osp.join(CONFIG_ROOT, '**', '*.py'), recursive=True)
    if '_base_' not in osp.relpath(p, CONFIG_ROOT).split(osp.sep))
POLYP = 'transfuse/transfuse-s_r34-deit-s_1xb16-30e_polyp-352x352.py'
PROSTATE_2CH = ('transfuse/'
                'transfuse-s_r34-deit-s-2ch_1xb16-5k_prostate-msd-320x320.py')


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path):
    """Any connection (a weight download) fails the test; an empty torch
    hub cache, so that no cached weight file is read either."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))

    def refuse(*args, **kwargs):
        raise AssertionError(f'network access {args[-1:]} in an inferencer '
                             'test (a pretrained weight fetch?)')

    monkeypatch.setattr(socket, 'getaddrinfo', refuse)
    monkeypatch.setattr(socket.socket, 'connect', refuse)
    monkeypatch.setattr(socket.socket, 'connect_ex', refuse)


def tiny_config(rel_path: str, size: int = SIZE) -> Config:
    """The config with its test images resized / padded to ``size``."""
    cfg = Config.fromfile(osp.join(CONFIG_ROOT, rel_path))
    for step in cfg.test_dataloader.dataset.pipeline:
        if step['type'] == 'Resize':
            step['scale'] = (size, size)
    preprocessor = cfg.model.data_preprocessor
    if preprocessor.get('size') is not None:
        preprocessor['size'] = (size, size)
    return cfg


def input_channels(cfg: Config) -> int:
    mean = cfg.model.data_preprocessor.get('mean')
    return 3 if mean is None else len(mean)


def seg_inferencer(cfg: Config):
    from mmseg.apis import MMSegInferencer
    return MMSegInferencer(model=cfg, weights=None, device='cpu')


def test_every_config_is_listed():
    # both tasks, the paper tables' polyp and prostate rows among them
    assert POLYP in CONFIGS and PROSTATE_2CH in CONFIGS
    assert sum(c.startswith('smca_detr/') for c in CONFIGS) >= 20
    assert sum(c.startswith('transfuse/') for c in CONFIGS) >= 20


@pytest.mark.parametrize('config', CONFIGS)
def test_inferencer_predicts_with_every_config(config):
    torch.manual_seed(0)
    cfg = tiny_config(config)
    h, w = 48, 56  # neither square nor a multiple of any stride
    img = np.random.default_rng(0).integers(
        0, 255, (h, w, input_channels(cfg)), dtype=np.uint8)
    scope = cfg.get('default_scope')
    if scope == 'mmseg':
        out = seg_inferencer(cfg)(img, return_datasamples=True)
        mask = out.pred_sem_seg.data
        # the label map is mapped back to the input image
        assert tuple(mask.shape) == (1, h, w)
        num_classes = cfg.model.decode_head.num_classes
        assert 0 <= int(mask.min()) and int(mask.max()) < num_classes
    else:
        assert scope == 'mmdet', (config, scope)
        from mmdet.apis import DetInferencer
        inferencer = DetInferencer(
            model=cfg, weights=None, device='cpu', show_progress=False)
        out = inferencer(img, return_datasamples=True, no_save_vis=True)
        pred = out['predictions'][0].pred_instances
        head = cfg.model.bbox_head
        expected = cfg.model.test_cfg.get('max_per_img',
                                          cfg.model.get('num_queries'))
        assert len(pred.bboxes) == len(pred.scores) == expected
        assert pred.bboxes.shape[1] == 4
        assert int(pred.labels.max()) < head.num_classes
        # boxes are in the input image's coordinates
        assert float(pred.bboxes[:, [0, 2]].max()) <= w + 1e-3
        assert float(pred.bboxes[:, [1, 3]].max()) <= h + 1e-3
        assert float(pred.bboxes.min()) >= -1e-3


def test_polyp_config_predicts_a_file_and_writes_its_drawing(tmp_path):
    # the five-set test loader exposes its one pipeline to the Inferencer
    full = Config.fromfile(osp.join(CONFIG_ROOT, POLYP))
    assert full.test_dataloader.dataset.type == 'SharedPipelineConcatDataset'
    assert full.test_dataloader.dataset.pipeline == full.test_pipeline
    cfg = tiny_config(POLYP)
    path = str(tmp_path / 'frame.png')
    cv2.imwrite(path, np.random.default_rng(1).integers(
        0, 255, (40, 30, 3), dtype=np.uint8))
    out = seg_inferencer(cfg)(path, out_dir=str(tmp_path / 'out'),
                              return_datasamples=True)
    assert tuple(out.pred_sem_seg.data.shape) == (1, 40, 30)
    drawn = cv2.imread(str(tmp_path / 'out' / 'vis' / 'frame.png'))
    assert drawn.shape == (40, 30, 3)


def _write_slice(folder, name: str, planes) -> str:
    """``<name>_0000.png``, ``<name>_0001.png`` ... (converter naming)."""
    for k, plane in enumerate(planes):
        assert cv2.imwrite(str(folder / f'{name}_{k:04d}.png'), plane)
    return str(folder / f'{name}_0000.png')


def test_two_channel_prostate_config_reads_a_slice_by_its_t2_file(tmp_path):
    cfg = tiny_config(PROSTATE_2CH)
    rng = np.random.default_rng(2)
    t2, adc = (rng.integers(0, 255, (36, 44), dtype=np.uint8)
               for _ in range(2))
    path = _write_slice(tmp_path, 'case_s003', (t2, adc))
    torch.manual_seed(0)
    inferencer = seg_inferencer(cfg)
    from_file = inferencer(path, return_datasamples=True)
    assert tuple(from_file.pred_sem_seg.data.shape) == (1, 36, 44)
    # the same slice given as a (H, W, 2) array of T2, ADC
    logits_file = from_file.seg_logits.data
    from_array = inferencer(np.stack([t2, adc], -1), return_datasamples=True)
    torch.testing.assert_close(from_array.seg_logits.data, logits_file)
    # an ADC map alone differs in its first channel: another prediction
    other = inferencer(np.stack([adc, adc], -1), return_datasamples=True)
    assert not torch.allclose(other.seg_logits.data, logits_file)
    # an RGB picture is not a 2-channel slice
    with pytest.raises(ValueError, match=r'\(H, W, 2\) array'):
        inferencer(np.zeros((36, 44, 3), np.uint8))
    with pytest.raises(FileNotFoundError, match='case_s009_0001.png'):
        cv2.imwrite(str(tmp_path / 'case_s009_0000.png'), t2)
        inferencer(str(tmp_path / 'case_s009_0000.png'))


def _random_checkpoint(cfg: Config, path: str) -> str:
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    torch.save(dict(state_dict=model.state_dict()), path)
    return path


@pytest.mark.parametrize('config', [POLYP, PROSTATE_2CH])
def test_image_demo_runs_polyp_and_prostate_configs(config, tmp_path):
    cfg = tiny_config(config)
    cfg.model.backbone.global_branch.depth = 1  # the demo reads no weights
    config_file = str(tmp_path / 'config.py')
    cfg.dump(config_file)
    ckpt = _random_checkpoint(cfg, str(tmp_path / 'model.pth'))
    folder = tmp_path / 'images'
    folder.mkdir()
    rng = np.random.default_rng(3)
    if config == POLYP:
        for name in ('1', '2'):
            cv2.imwrite(str(folder / f'{name}.png'),
                        rng.integers(0, 255, (30, 34, 3), dtype=np.uint8))
        pattern, expected = [], ['1.png', '2.png']
    else:  # a converted slice folder: pick each slice by its T2 file
        for name in ('p0_s000', 'p0_s001'):
            _write_slice(folder, name,
                         rng.integers(0, 255, (2, 30, 34), dtype=np.uint8))
        pattern = ['--pattern', '*_0000.png']
        expected = ['p0_s000_0000.png', 'p0_s001_0000.png']
    demo = load_tool('demo/image_demo.py')
    demo.main([str(folder), config_file, ckpt, '--out-dir',
               str(tmp_path / 'vis')] + pattern)
    assert sorted(glob.glob(str(tmp_path / 'vis' / '*'))) == [
        str(tmp_path / 'vis' / name) for name in expected
    ]
    # the drawing is the input image's size, in colour
    assert cv2.imread(str(tmp_path / 'vis' / expected[0])).shape == (30, 34,
                                                                     3)

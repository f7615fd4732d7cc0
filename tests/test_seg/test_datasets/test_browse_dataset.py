"""mmseg's ``tools/analysis_tools/browse_dataset.py`` on every dataset config.

Runs the real script (shipped in mmseg's ``.mim`` folder) on converted fake
data: it builds the training dataset from the config, runs the pipeline on
every sample and draws the ground truth into image files.

It runs through ``tools/analysis_tools/browse_dataset.py``, which executes
mmseg's script unchanged but for the image it draws on being made
contiguous (mmseg 1.2.2 + numpy 2 crash in ``cv2.rectangle`` otherwise).
"""
import importlib.util
import os
import os.path as osp
import sys

import pytest
from mmseg.visualization import SegLocalVisualizer

from tests.conftest import CONFIG_ROOT, load_tool
from .fake_trees import (make_cvc_clinicdb_tree, make_isic2017_tree,
                         make_kvasir_seg_tree, make_medical_2d_tree,
                         make_msd_prostate_tree, make_pranet_tree)



def _base_config(tmp_path, base: str) -> str:
    """A complete config (runtime incl. visualizer) over a dataset base."""
    path = str(tmp_path / f'browse_{base}')
    bases = [
        osp.join(CONFIG_ROOT, '_base_', 'datasets', base),
        osp.join(CONFIG_ROOT, '_base_', 'default_runtime_seg.py')
    ]
    with open(path, 'w') as f:
        f.write(f'_base_ = {bases!r}\n')
    return path


def _polyp(tmp_path):
    make_pranet_tree(str(tmp_path / 'src'), num_train=2)
    load_tool('dataset_converters/polyp_pranet.py').main(
        [str(tmp_path / 'src'), '--out', str(tmp_path / 'data')])
    return (osp.join(CONFIG_ROOT, 'transfuse', 'transfuse-s_r34-deit-s_'
                     '1xb16-30e_polyp-352x352.py'), 2)


def _kvasir(tmp_path):
    make_kvasir_seg_tree(str(tmp_path / 'src'), num=3)
    load_tool('dataset_converters/kvasir_seg.py').main(
        [str(tmp_path / 'src'), '--out', str(tmp_path / 'data'),
         '--val-ratio', '0.34'])
    return _base_config(tmp_path, 'kvasir_seg.py'), 2


def _cvc(tmp_path):
    make_cvc_clinicdb_tree(str(tmp_path / 'src'), num=3)
    load_tool('dataset_converters/cvc_clinicdb.py').main(
        [str(tmp_path / 'src'), '--out', str(tmp_path / 'data'),
         '--val-ratio', '0.34'])
    return _base_config(tmp_path, 'cvc_clinicdb.py'), 2


def _isic(tmp_path):
    make_isic2017_tree(str(tmp_path / 'src'))
    load_tool('dataset_converters/isic2017.py').main(
        [str(tmp_path / 'src'), '--out', str(tmp_path / 'data')])
    return (osp.join(CONFIG_ROOT, 'transfuse', 'transfuse-s_r34-deit-s_'
                     '1xb16-30e_isic2017-192x256.py'), 3)


def _prostate(tmp_path):
    make_msd_prostate_tree(str(tmp_path / 'src'), depths=(2, 1))
    load_tool('dataset_converters/prostate_msd.py').main(
        [str(tmp_path / 'src'), '--out', str(tmp_path / 'data'),
         '--val-ratio', '0.5'])
    return (osp.join(CONFIG_ROOT, 'transfuse', 'transfuse-s_r34-deit-s_'
                     '1xb16-5k_prostate-msd-320x320.py'), None)


def _hip(tmp_path):
    make_medical_2d_tree(str(tmp_path / 'data'))
    return (osp.join(CONFIG_ROOT, 'transfuse', 'transfuse-s_r34-deit-s_'
                     '1xb8-4k_hip-xray-512x512.py'), 2)


@pytest.mark.parametrize('make', [_polyp, _kvasir, _cvc, _isic, _prostate,
                                  _hip])
def test_browse_dataset_runs_on_config(tmp_path, monkeypatch, make):
    config, expected = make(tmp_path)
    out_dir = str(tmp_path / 'vis')
    browse = load_tool('analysis_tools/browse_dataset.py')
    monkeypatch.setattr(SegLocalVisualizer, '_draw_sem_seg',
                        SegLocalVisualizer._draw_sem_seg)  # undo the patch
    monkeypatch.setattr(sys, 'argv', [
        'browse_dataset.py', config, '--output-dir', out_dir, '--not-show',
        '--cfg-options',
        f'train_dataloader.dataset.data_root={tmp_path / "data"}'
    ])
    browse.main()
    drawn = os.listdir(out_dir)
    if expected is not None:
        assert len(drawn) == expected
    else:  # prostate: one drawing per training slice
        with open(tmp_path / 'data' / 'splits' / 'train.txt') as f:
            assert len(drawn) == len(f.read().split())

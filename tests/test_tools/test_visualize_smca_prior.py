"""tools/analysis_tools/visualize_smca_prior.py draws a PNG of the priors."""
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
import torch
from mmdet.apis import init_detector

import mmplugin_transfuse  # noqa: F401

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis_tools'))
from visualize_smca_prior import compute_priors, draw  # noqa: E402

CONFIG = osp.join(REPO, 'configs', 'smca_detr',
                  'smca-detr_r18_1xb8-36e_synthetic-shapes-160x160.py')


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return init_detector(CONFIG, None, device='cpu')


def test_png_of_centres_and_priors(model, tmp_path):
    img = np.full((120, 160, 3), 90, np.uint8)  # resized to 160x120
    cv2.circle(img, (60, 50), 25, (0, 0, 255), -1)
    img_path = str(tmp_path / 'img.jpg')
    cv2.imwrite(img_path, img)
    result = compute_priors(model, img_path, layer=1, num_queries=4)
    # stride 16 read from the ResNet (C4): the 120x160 input gives an 8x10 map
    assert result['stride'] == 16
    assert result['priors'].shape == (8, 4, 8, 10)
    assert np.all(result['priors'] > 0) and np.all(result['priors'] <= 1)
    # centres lie inside the image (sigmoid x the image's own size)
    cx, cy = result['centers'][:, 0], result['centers'][:, 1]
    assert np.all((cx >= 0) & (cx <= 160) & (cy >= 0) & (cy <= 120))
    assert result['boxes'].shape == (4, 4)
    assert np.all(np.diff(result['scores']) <= 0)  # most confident first
    out = str(tmp_path / 'prior.png')
    draw(result, out, layer=1, class_names=model.dataset_meta['classes'])
    png = cv2.imread(out)
    assert png is not None and png.shape[0] > 200 and png.shape[1] > 200


def test_bad_arguments(model, tmp_path):
    with pytest.raises(ValueError, match='--layer'):
        compute_priors(model, 'x.jpg', layer=7, num_queries=1)
    with pytest.raises(FileNotFoundError, match='no image'):
        compute_priors(model, str(tmp_path / 'missing.jpg'), 0, 1)

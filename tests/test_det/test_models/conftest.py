"""Shared helpers for the SMCA-DETR model tests."""
import os.path as osp

import pytest
import torch
from mmengine import Config
from mmengine.registry import init_default_scope

import mmplugin_transfuse  # noqa: F401  registers the SMCA modules

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
SMCA_CFG_DIR = osp.join(REPO, 'configs', 'smca_detr')
R50_CFG = osp.join(SMCA_CFG_DIR, 'smca-detr_r50_8xb2-50e_coco.py')


@pytest.fixture(autouse=True)
def mmdet_scope():
    init_default_scope('mmdet')


def load_r50_cfg() -> Config:
    """The real R50 COCO config, with the pretrained backbone switched off."""
    cfg = Config.fromfile(R50_CFG)
    cfg.model.backbone.init_cfg = None
    return cfg


def _dot(weight, bias, row, x):
    """Output ``row`` of a linear layer on the vector ``x``, in Python."""
    return sum(w * v for w, v in zip(weight[row], x)) + bias[row]


def scalar_log_prior(prior, prior_query, centers, feat_hw):
    """``log G`` of an :class:`SMCAPriorPredictor`, one scalar at a time.

    Written from the reference code's layout, independently of the module:
    the offset predictor's ``2 * P`` outputs are prior-major ``(x, y)``
    pairs, the scale predictor's ``C * P`` outputs prior-major groups of
    ``C`` (``Single`` 1, ``Indep`` ``(s_x, s_y)``, ``Cov`` ``(s_x, s_y,
    s_xy)``); key ``k = y * w + x`` sits at cell ``(x, y)``; the result is
    indexed ``[b * num_heads + head, query, key]`` (torch's batch-major
    head order) and ``log G = -(s_x^2 dx^2 + s_y^2 dy^2 + s_xy^2 dx^2
    dy^2) / (beta * unit^2)`` with ``p = c + unit * offset``.
    """
    feat_h, feat_w = feat_hw
    bs, nq, _ = prior_query.shape
    nh = prior.num_heads
    unit, beta = prior.prior_unit, prior.beta
    channels = {'Fixed': 0, 'Single': 1, 'Indep': 2, 'Cov': 3}
    c = channels[prior.scale_mode]
    off_w = prior.offset_fc.weight.tolist()
    off_b = prior.offset_fc.bias.tolist()
    if c:
        sc_w = prior.scale_fc.weight.tolist()
        sc_b = prior.scale_fc.bias.tolist()
    out = torch.empty(bs * nh, nq, feat_h * feat_w, dtype=torch.float64)
    for b in range(bs):
        for q in range(nq):
            x = prior_query[b, q].tolist()
            for n in range(nh):
                m = 0 if prior.head_shared_prior else n
                px = float(centers[b, q, 0]) + unit * _dot(
                    off_w, off_b, 2 * m, x)
                py = float(centers[b, q, 1]) + unit * _dot(
                    off_w, off_b, 2 * m + 1, x)
                sx = sy = 1.0
                sxy = 0.0
                if c == 1:
                    sx = sy = _dot(sc_w, sc_b, m, x)
                elif c >= 2:
                    sx = _dot(sc_w, sc_b, c * m, x)
                    sy = _dot(sc_w, sc_b, c * m + 1, x)
                    if c == 3:
                        sxy = _dot(sc_w, sc_b, c * m + 2, x)
                for ky in range(feat_h):
                    for kx in range(feat_w):
                        dx2, dy2 = (px - kx)**2, (py - ky)**2
                        dist = (sx * sx * dx2 + sy * sy * dy2 +
                                sxy * sxy * dx2 * dy2)
                        out[b * nh + n, q,
                            ky * feat_w + kx] = -dist / (beta * unit * unit)
    return out

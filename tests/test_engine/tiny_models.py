"""The synthetic-data configs' models shrunk for compile and AMP tests;
``raw_batch`` gives them a random batch for the config's own data
pre-processor."""
import os.path as osp
from typing import Any, Dict, Tuple

import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from mmplugin_transfuse.utils.benchmark import (  # noqa: F401 (re-exported)
    build_model, load_config, raw_batch)
from tests.conftest import CONFIG_ROOT

TRANSFUSE = osp.join(
    CONFIG_ROOT, 'transfuse',
    'transfuse-s_r34-deit-s_1xb4-100_synthetic-polyp-128x128.py')
SMCA = osp.join(CONFIG_ROOT, 'smca_detr',
                'smca-detr_r18_1xb8-200_synthetic-shapes-128x128.py')
SMCA_MS = osp.join(CONFIG_ROOT, 'smca_detr',
                   'smca-detr-ms_r18_1xb8-12e_synthetic-shapes-96x96.py')
# ResNet-18 + a 1-block, 64-wide ViT; dropout off (equal losses)
TINY_TRANSFUSE = {
    'model.backbone.cnn.depth': 18,
    'model.backbone.global_branch.depth': 1,
    'model.backbone.global_branch.embed_dims': 64,
    'model.backbone.global_branch.num_heads': 2,
    'model.neck.trans_channels': (64, 128, 64),
    'model.backbone.drop_rate': 0.0,
    'model.neck.drop_rate': 0.0,
}
# 1 encoder + 2 decoder layers (one auxiliary), 5 queries, dropout off
TINY_SMCA = {
    'model.encoder.num_layers': 1,
    'model.decoder.num_layers': 2,
    'model.num_queries': 5,
    'model.encoder.layer_cfg.self_attn_cfg.dropout': 0.0,
    'model.encoder.layer_cfg.ffn_cfg.ffn_drop': 0.0,
    'model.decoder.layer_cfg.self_attn_cfg.dropout': 0.0,
    'model.decoder.layer_cfg.cross_attn_cfg.dropout': 0.0,
    'model.decoder.layer_cfg.ffn_cfg.ffn_drop': 0.0,
}


def tiny(config: str, overrides: Dict[str, Any]) -> Tuple[Config, Any, Any]:
    """(cfg, model in train mode, the config's optimizer wrapper)."""
    cfg = load_config(config, overrides)
    torch.manual_seed(0)
    model = build_model(cfg).train()
    return cfg, model, build_optim_wrapper(model, cfg.optim_wrapper)

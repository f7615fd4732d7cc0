"""The synthetic-data configs' models shrunk for compile and AMP tests,
with a random batch through the config's own data pre-processor."""
import os.path as osp
from typing import Any, Dict, Tuple

import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.structures import InstanceData, PixelData

from mmplugin_transfuse.utils.flops import build_model, load_config
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


def raw_batch(cfg: Config, sizes, seed: int = 0) -> Dict[str, Any]:
    """A data-loader batch: uint8 images of ``sizes`` [(h, w), ...] and
    their targets (2 boxes each for detectors, a 0/1 mask for
    segmentors), as ``model.train_step`` takes it."""
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for h, w in sizes:
        inputs.append(torch.randint(0, 256, (3, h, w), generator=gen,
                                    dtype=torch.uint8))
        meta = dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w),
                    scale_factor=(1.0, 1.0))
        if cfg.default_scope == 'mmdet':
            from mmdet.structures import DetDataSample
            sample = DetDataSample(metainfo=meta)
            xy = torch.rand(2, 2, generator=gen) * 0.5
            wh = torch.rand(2, 2, generator=gen) * 0.4 + 0.1
            sample.gt_instances = InstanceData(
                bboxes=torch.cat([xy, xy + wh], 1) * torch.tensor(
                    [w, h, w, h], dtype=torch.float),
                labels=torch.randint(3, (2, ), generator=gen))
        else:
            from mmseg.structures import SegDataSample
            sample = SegDataSample(metainfo=meta)
            sample.gt_sem_seg = PixelData(
                data=torch.randint(0, 2, (1, h, w), generator=gen))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)

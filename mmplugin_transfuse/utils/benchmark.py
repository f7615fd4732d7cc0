"""Shared pieces of the benchmark tools (``tools/benchmark/*.py``): configs,
models, inputs, tables.

Every benchmark builds its models from config files, either this package's
(``configs/...``) or mmdet's / mmseg's own model-zoo configs
(``mmdet::detr/detr_r50_8xb2-150e_coco.py``, ``mmseg::unet/...``), with
random weights: every ``init_cfg`` / ``pretrained`` entry is removed, so
nothing is downloaded and no local checkpoint is needed (latency, memory
and FLOPs do not depend on the weights).

Inputs are random tensors at the network's input (after the data
pre-processor): ``(B, C, H, W)`` plus the data samples the model needs
(image metadata for detectors; random boxes / masks for a training step).
"""
import ast
import csv
import importlib.util
import os
import os.path as osp
import sys
from types import ModuleType
from typing import Any, Dict, List, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.structures import InstanceData, PixelData

# config loading without weights, random models and inputs, FLOP counting
from .flops import (  # noqa: F401 (re-exported)
    _REPO_ROOT, build_model, count_flops, count_params, in_channels_of,
    load_config, random_batch, resolve_config, task_of)

REPO_ROOT = _REPO_ROOT  # the source checkout (tools/ next to the package)


def load_tool(rel_path: str) -> ModuleType:
    """Import a script under ``tools/`` (not a package) by its path."""
    name = 'benchmark_tool_' + osp.splitext(rel_path)[0].replace('/', '_')
    if name in sys.modules:
        return sys.modules[name]
    path = osp.join(REPO_ROOT, 'tools', rel_path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def make_inputs(cfg: Config,
                batch: int,
                height: int,
                width: int,
                with_targets: bool = False,
                device: str = 'cpu',
                seed: int = 0) -> Tuple[torch.Tensor, List[Any]]:
    """Random ``(B, C, H, W)`` inputs and data samples for ``cfg``'s model.

    Detection samples carry the image metadata DETR-style models read
    (``img_shape``, ``batch_input_shape``); with ``with_targets`` also 3
    random boxes of random classes each. Segmentation samples carry
    ``img_shape`` and, with ``with_targets``, a random mask of class ids.
    """
    inputs, samples = random_batch(cfg, batch, height, width, seed)
    if with_targets:
        gen = torch.Generator().manual_seed(seed + 1)
        if task_of(cfg) == 'det':
            num_classes = int(
                cfg.model.get('bbox_head', {}).get('num_classes', 80))
            scale = torch.tensor([width, height] * 2, dtype=torch.float)
            for sample in samples:
                xy = torch.rand(3, 2, generator=gen) * 0.6
                wh = torch.rand(3, 2, generator=gen) * 0.3 + 0.05
                sample.gt_instances = InstanceData(
                    bboxes=torch.cat([xy, xy + wh], dim=1) * scale,
                    labels=torch.randint(
                        num_classes, (3, ), generator=gen))
        else:
            head = cfg.model.get('decode_head', {})
            if isinstance(head, (list, tuple)):
                head = head[-1]
            num_classes = int(head.get('num_classes', 2))
            for sample in samples:
                sample.gt_sem_seg = PixelData(
                    data=torch.randint(
                        num_classes, (1, height, width), generator=gen))
    samples = [s.to(device) for s in samples]
    return inputs.to(device), samples


def raw_batch(cfg: Config,
              sizes: Sequence[Tuple[int, int]],
              seed: int = 0) -> Dict[str, Any]:
    """A data-loader batch, before the data pre-processor, as
    ``model.train_step`` takes it: uint8 images of ``sizes`` ``[(h, w),
    ...]`` (``in_channels_of(cfg)`` channels) and their targets, 2 random
    boxes of classes 0-2 per image for detectors, a random 0/1 mask for
    segmentors. Images of different sizes make the pre-processor pad the
    batch (``pad_size_divisor``), as in training."""
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for h, w in sizes:
        inputs.append(
            torch.randint(0, 256, (in_channels_of(cfg), h, w),
                          generator=gen, dtype=torch.uint8))
        meta = dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w),
                    scale_factor=(1.0, 1.0))
        if task_of(cfg) == 'det':
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


def flop_analyzer_total(model: torch.nn.Module, inputs: torch.Tensor,
                        samples: Sequence[Any]) -> int:
    """fvcore-style FLOPs of one tensor forward, attention included
    (:func:`mmplugin_transfuse.utils.flops.count_flops`)."""
    return count_flops(model, inputs, samples)['flops']


def parse_size(text: str) -> Tuple[int, int]:
    """'512x512' or '800x1216' -> (H, W)."""
    try:
        h, w = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise ValueError(f'size {text!r}: expected HxW, e.g. 800x1216')
    if h < 16 or w < 16:
        raise ValueError(f'size {text!r}: height and width must be >= 16')
    return h, w


def parse_cfg_options(items: Sequence[str]) -> Dict[str, Any]:
    """``['model.x=1', ...]`` -> ``{'model.x': 1}`` (Python literals)."""
    out = {}
    for item in items:
        if '=' not in item:
            raise ValueError(f'--cfg-options {item!r}: expected KEY=VALUE')
        key, value = item.split('=', 1)
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out


def print_table(rows: List[Dict[str, Any]], columns: Sequence[str]) -> str:
    """Markdown table of ``rows`` (floats with 3 significant decimals)."""

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f'{v:.3f}' if abs(v) < 100 else f'{v:.1f}'
        return str(v)

    cells = [[fmt(r.get(c, '')) for c in columns] for r in rows]
    widths = [
        max([len(c)] + [len(row[i]) for row in cells])
        for i, c in enumerate(columns)
    ]
    lines = [
        '| ' + ' | '.join(c.ljust(w) for c, w in zip(columns, widths)) + ' |',
        '|' + '|'.join('-' * (w + 2) for w in widths) + '|'
    ]
    for row in cells:
        lines.append('| ' + ' | '.join(
            v.ljust(w) for v, w in zip(row, widths)) + ' |')
    text = '\n'.join(lines)
    print(text, flush=True)
    return text


def write_csv(path: str, rows: List[Dict[str, Any]],
              columns: Sequence[str]) -> None:
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=list(columns),
                                extrasaction='ignore')
        writer.writeheader()
        writer.writerows(rows)
    print(f'wrote {path}')

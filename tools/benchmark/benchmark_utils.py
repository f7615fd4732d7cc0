"""Shared pieces of the benchmark scripts: configs, models, inputs, tables.

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
import csv
import importlib.util
import os
import os.path as osp
import sys
from types import ModuleType
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.config.utils import _get_package_and_cfg_path
from mmengine.registry import init_default_scope
from mmengine.utils import get_installed_path

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


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


def resolve_config(config: str) -> str:
    """Path of ``config``: ``mmdet::``/``mmseg::`` refs point into the
    installed package's ``.mim/configs``; relative paths are tried from the
    working directory, then from the repository root."""
    if '::' in config:
        package, rel = _get_package_and_cfg_path(config)
        path = osp.join(get_installed_path(package), '.mim', 'configs', rel)
    elif osp.isfile(config):
        path = config
    else:
        path = osp.join(REPO_ROOT, config)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'config {config!r} not found (looked at {path}); give a path '
            'or an mmdet::/mmseg:: reference to a config shipped in the '
            'installed package')
    return path


def _strip_weights(node: Any) -> None:
    """Drop every ``init_cfg`` of type Pretrained and every ``pretrained``
    path in a model config, recursively (random init, nothing to load)."""
    if isinstance(node, dict):
        for key in list(node.keys()):
            value = node[key]
            if key == 'pretrained' and isinstance(value, str):
                node[key] = None
            elif key == 'init_cfg' and _is_pretrained(value):
                node[key] = None
            else:
                _strip_weights(value)
    elif isinstance(node, (list, tuple)):
        for item in node:
            _strip_weights(item)


def _is_pretrained(init_cfg: Any) -> bool:
    items = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return any(
        isinstance(i, dict) and i.get('type') == 'Pretrained' for i in items)


def load_config(config: str,
                cfg_options: Optional[Dict[str, Any]] = None) -> Config:
    """Config of ``config`` without pretrained weights, with overrides."""
    cfg = Config.fromfile(resolve_config(config))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'model' not in cfg:
        raise KeyError(f'config {config!r} has no `model` field')
    _strip_weights(cfg.model)
    return cfg


def task_of(cfg: Config) -> str:
    """'det' for mmdet configs, 'seg' for mmseg configs."""
    scope = cfg.get('default_scope')
    if scope in ('mmdet', 'mmseg'):
        return scope[2:]
    raise ValueError(
        f"config default_scope is {scope!r}; the benchmarks support 'mmdet' "
        "(detection) and 'mmseg' (segmentation) configs")


def build_model(cfg: Config) -> torch.nn.Module:
    """Build ``cfg.model`` in its scope's registry (random weights, eval)."""
    task = task_of(cfg)
    init_default_scope(cfg.default_scope)
    import mmplugin_transfuse  # noqa: F401  registers the package modules
    if task == 'det':
        from mmdet.registry import MODELS
    else:
        from mmseg.registry import MODELS
    # the modules' default random init: `init_weights()` is not called, it
    # changes no shape or op count, only logs every parameter
    return MODELS.build(cfg.model).eval()


def in_channels_of(cfg: Config) -> int:
    """Image channels the model expects (3 unless the backbone says so)."""
    backbone = cfg.model.get('backbone', {})
    for branch in (backbone, backbone.get('cnn') or {},
                   backbone.get('transformer') or {}):
        if 'in_channels' in branch:
            return int(branch['in_channels'])
    return 3


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
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randn(
        batch, in_channels_of(cfg), height, width, generator=gen)
    meta = dict(
        img_shape=(height, width),
        batch_input_shape=(height, width),
        ori_shape=(height, width),
        pad_shape=(height, width),
        scale_factor=(1.0, 1.0))
    samples = []
    if task_of(cfg) == 'det':
        from mmdet.structures import DetDataSample
        from mmengine.structures import InstanceData
        head = cfg.model.get('bbox_head', {})
        num_classes = int(head.get('num_classes', 80))
        for _ in range(batch):
            sample = DetDataSample(metainfo=meta)
            if with_targets:
                xy = torch.rand(3, 2, generator=gen) * 0.6
                wh = torch.rand(3, 2, generator=gen) * 0.3 + 0.05
                scale = torch.tensor([width, height] * 2, dtype=torch.float)
                boxes = torch.cat([xy, xy + wh], dim=1) * scale
                sample.gt_instances = InstanceData(
                    bboxes=boxes,
                    labels=torch.randint(
                        num_classes, (3, ), generator=gen))
            samples.append(sample)
    else:
        from mmengine.structures import PixelData
        from mmseg.structures import SegDataSample
        head = cfg.model.get('decode_head', {})
        if isinstance(head, (list, tuple)):
            head = head[-1]
        num_classes = int(head.get('num_classes', 2))
        for _ in range(batch):
            sample = SegDataSample(metainfo=meta)
            if with_targets:
                sample.gt_sem_seg = PixelData(
                    data=torch.randint(
                        num_classes, (1, height, width), generator=gen))
            samples.append(sample)
    samples = [s.to(device) for s in samples]
    return inputs.to(device), samples


def flop_analyzer_total(model: torch.nn.Module, inputs: torch.Tensor,
                        samples: Sequence[Any]) -> int:
    """fvcore-style FLOPs (1 multiply-add = 1 FLOP) of one tensor forward.

    Uses mmengine's ``FlopAnalyzer`` with the package tools' extra rules:
    ``aten::baddbmm`` (``Q K^T`` of attention with an additive mask, from
    ``smca_params_flops.py``) and ``aten::scaled_dot_product_attention``
    (fused attention, from ``transfuse_params_flops.py``); without them an
    attention with a mask or a fused kernel would count as free.
    """
    from mmengine.analysis import FlopAnalyzer
    smca_tool = load_tool('analysis_tools/smca_params_flops.py')
    seg_tool = load_tool('analysis_tools/transfuse_params_flops.py')

    class _Tensor(torch.nn.Module):
        # jit tracing needs a module whose forward takes tensors only

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, x: torch.Tensor) -> Any:
            return self.model(x, list(samples), mode='tensor')

    with torch.no_grad():
        analyzer = FlopAnalyzer(_Tensor(), (inputs, ))
        analyzer.set_op_handle('aten::baddbmm', smca_tool.baddbmm_flop_jit)
        analyzer.set_op_handle('aten::scaled_dot_product_attention',
                               seg_tool.sdpa_flop_jit)
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        return int(analyzer.total())


def count_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def parse_size(text: str) -> Tuple[int, int]:
    """'512x512' or '800x1216' -> (H, W)."""
    try:
        h, w = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise ValueError(f'size {text!r}: expected HxW, e.g. 800x1216')
    if h < 16 or w < 16:
        raise ValueError(f'size {text!r}: height and width must be >= 16')
    return h, w


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

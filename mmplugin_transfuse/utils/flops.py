"""Parameters and FLOPs of any mmdet / mmseg config's model.

The model is built from the config with random weights (every
``Pretrained`` ``init_cfg`` and ``pretrained`` path removed, nothing is
downloaded) and traced in eval mode on one random ``(1, C, H, W)`` input
through ``model(inputs, data_samples, mode='tensor')``; detectors get data
samples carrying ``img_shape`` / ``batch_input_shape`` of that input, so no
dataset is read (mmdet's ``get_flops.py`` reads one validation image;
mmseg 1.2.2's fails with mmengine 0.10.7).

FLOPs are fvcore-style (one multiply-add = one FLOP, the convention of the
DETR, SMCA and TransFuse papers), counted by mmengine's ``FlopAnalyzer``
plus two attention rules it lacks (without them those products count as
free):

* ``aten::baddbmm(bias, A, B)``: the ``A @ B`` multiply-adds, as ``bmm``
  (``nn.MultiheadAttention`` computes ``Q K^T`` with it when an additive
  mask is given);
* ``aten::scaled_dot_product_attention(q, k, v)``: ``Q K^T`` plus ``A V``,
  ``B * Lq * Lk * (d + d_v)`` with ``B`` the broadcast batch x heads.

Softmax, masks, norms and other elementwise ops are not counted.
"""
import math
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.analysis import FlopAnalyzer
from mmengine.analysis.jit_handles import get_shape
from mmengine.config import Config
from mmengine.config.utils import _get_package_and_cfg_path
from mmengine.registry import init_default_scope
from mmengine.utils import get_installed_path
from torch import Tensor, nn

# the package's source checkout (configs/ sits next to the package)
_REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def baddbmm_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """``baddbmm(bias, A, B)``: the ``A @ B`` multiply-adds (as ``bmm``)."""
    n, c, t = get_shape(inputs[1])
    d = get_shape(inputs[2])[-1]
    return n * c * t * d


def sdpa_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """``scaled_dot_product_attention(q, k, v, ...)``: ``Q K^T`` and ``A V``.

    ``q`` is ``(..., Lq, d)``, ``k`` ``(..., Lk, d)``, ``v`` ``(..., Lk,
    d_v)``; the leading dims (batch, heads) broadcast.
    """
    q_shape, k_shape, v_shape = (get_shape(x) for x in inputs[:3])
    batch = math.prod(max(a, b) for a, b in zip(q_shape[:-2], k_shape[:-2]))
    lq, d = q_shape[-2:]
    lk = k_shape[-2]
    return batch * lq * lk * d + batch * lq * lk * v_shape[-1]


# operators counted on top of mmengine's defaults, with their rules
ATTENTION_HANDLES = {
    'aten::baddbmm': baddbmm_flop_jit,
    'aten::scaled_dot_product_attention': sdpa_flop_jit,
}


def resolve_config(config: str) -> str:
    """Path of ``config``: ``mmdet::`` / ``mmseg::`` refs point into the
    installed package's ``.mim/configs``; a relative path is tried from the
    working directory, then from the source checkout."""
    if '::' in config:
        package, rel = _get_package_and_cfg_path(config)
        path = osp.join(get_installed_path(package), '.mim', 'configs', rel)
    elif osp.isfile(config):
        path = config
    else:
        path = osp.join(_REPO_ROOT, config)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'config {config!r} not found (looked at {path}); give a path '
            'or an mmdet::/mmseg:: reference to a config shipped in the '
            'installed package')
    return path


def _is_pretrained(init_cfg: Any) -> bool:
    items = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return any(
        isinstance(i, dict) and i.get('type') == 'Pretrained' for i in items)


def strip_pretrained(node: Any) -> None:
    """Drop every ``Pretrained`` ``init_cfg`` and ``pretrained`` path of a
    model config, recursively (random init, nothing to load)."""
    if isinstance(node, dict):
        for key in list(node.keys()):
            value = node[key]
            if key == 'pretrained' and isinstance(value, str):
                node[key] = None
            elif key == 'init_cfg' and _is_pretrained(value):
                node[key] = None
            else:
                strip_pretrained(value)
    elif isinstance(node, (list, tuple)):
        for item in node:
            strip_pretrained(item)


def load_config(config: str,
                cfg_options: Optional[Dict[str, Any]] = None) -> Config:
    """``config`` without pretrained weights, with ``cfg_options`` merged."""
    cfg = Config.fromfile(resolve_config(config))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'model' not in cfg:
        raise KeyError(f'config {config!r} has no `model` field')
    strip_pretrained(cfg.model)
    return cfg


def task_of(cfg: Config) -> str:
    """'det' for mmdet configs, 'seg' for mmseg configs."""
    scope = cfg.get('default_scope')
    if scope in ('mmdet', 'mmseg'):
        return scope[2:]
    raise ValueError(
        f"config default_scope is {scope!r}; expected 'mmdet' (detection) "
        "or 'mmseg' (segmentation)")


def build_model(cfg: Config) -> nn.Module:
    """``cfg.model`` built in its scope's registry, random weights, eval.

    ``init_weights()`` is not called: it changes no shape or op count.
    """
    task = task_of(cfg)
    init_default_scope(cfg.default_scope)
    import mmplugin_transfuse  # noqa: F401  registers the package modules
    if task == 'det':
        from mmdet.registry import MODELS
    else:
        from mmseg.registry import MODELS
    return MODELS.build(cfg.model).eval()


def in_channels_of(cfg: Config) -> int:
    """Image channels the model expects (3 unless the backbone says so):
    the backbone's ``in_channels``, else TransFuse's branches' (``cnn``,
    ``global_branch``)."""
    backbone = cfg.model.get('backbone', {})
    for branch in (backbone, backbone.get('cnn') or {},
                   backbone.get('global_branch') or {}):
        if 'in_channels' in branch:
            return int(branch['in_channels'])
    return 3


def random_batch(cfg: Config,
                 batch: int,
                 height: int,
                 width: int,
                 seed: int = 0) -> Tuple[Tensor, List[Any]]:
    """Random ``(B, C, H, W)`` inputs and data samples with the image
    metadata (``img_shape``, ``batch_input_shape``, ``ori_shape``,
    ``pad_shape``, ``scale_factor``) of an unpadded ``height x width``
    batch: :class:`DetDataSample` for mmdet configs, :class:`SegDataSample`
    for mmseg ones."""
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randn(
        batch, in_channels_of(cfg), height, width, generator=gen)
    meta = dict(
        img_shape=(height, width),
        batch_input_shape=(height, width),
        ori_shape=(height, width),
        pad_shape=(height, width),
        scale_factor=(1.0, 1.0))
    if task_of(cfg) == 'det':
        from mmdet.structures import DetDataSample as Sample
    else:
        from mmseg.structures import SegDataSample as Sample
    return inputs, [Sample(metainfo=meta) for _ in range(batch)]


class _TensorForward(nn.Module):
    """``model(x, samples, mode='tensor')`` as a module taking tensors only
    (what jit tracing needs)."""

    def __init__(self, model: nn.Module, samples: Sequence[Any]) -> None:
        super().__init__()
        self.model = model
        self.samples = list(samples)

    def forward(self, x: Tensor) -> Any:
        return self.model(x, self.samples, mode='tensor')


def count_flops(model: nn.Module, inputs: Tensor,
                samples: Sequence[Any]) -> Dict[str, int]:
    """FLOPs of one tensor-mode forward.

    Returns:
        dict: ``flops`` (all, with :data:`ATTENTION_HANDLES`) and
        ``attention_flops`` (the part those two operators add; ``flops -
        attention_flops`` is what mmengine's defaults count).
    """
    with torch.no_grad():
        analyzer = FlopAnalyzer(_TensorForward(model, samples), (inputs, ))
        for op, handle in ATTENTION_HANDLES.items():
            analyzer.set_op_handle(op, handle)
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        total = int(analyzer.total())
        by_op = analyzer.by_operator()
    attention = sum(
        by_op.get(op.split('::')[-1], 0) for op in ATTENTION_HANDLES)
    return dict(flops=total, attention_flops=int(attention))


def count_params(model: nn.Module) -> int:
    """Parameters, each shared tensor once."""
    return sum(p.numel() for p in model.parameters())


def default_shape(cfg: Config) -> Tuple[int, int]:
    """Input ``(H, W)`` when none is given: a seg config's ``crop_size``;
    800 x 1216 for detectors (a COCO image at the 800-pixel test scale)."""
    if task_of(cfg) == 'det':
        return (800, 1216)
    if 'crop_size' not in cfg:
        raise ValueError('the config has no `crop_size`; give the input '
                         'shape (--shape H W)')
    return tuple(int(s) for s in cfg.crop_size)


def get_complexity(config: str,
                   shape: Optional[Sequence[int]] = None,
                   cfg_options: Optional[Dict[str, Any]] = None
                   ) -> Dict[str, Any]:
    """Params and FLOPs of ``config``'s model on one random input.

    Args:
        config (str): Config path or ``mmdet::`` / ``mmseg::`` reference.
        shape (Sequence[int], optional): Input ``(H, W)``, or ``(S,)`` for a
            square. Defaults to :func:`default_shape`.
        cfg_options (dict, optional): Overrides merged into the config.

    Returns:
        dict: ``model`` (class name), ``task``, ``shape`` ``(C, H, W)``,
        ``params``, ``flops`` and ``attention_flops`` (see
        :func:`count_flops`).
    """
    cfg = load_config(config, cfg_options)
    shape = tuple(int(s) for s in (shape or default_shape(cfg)))
    if len(shape) == 1:
        shape = shape * 2
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f'{config}: input shape {shape}: expected H W '
                         '(positive)')
    model = build_model(cfg)
    inputs, samples = random_batch(cfg, 1, *shape)
    result = dict(
        model=type(model).__name__,
        task=task_of(cfg),
        shape=(inputs.shape[1], ) + shape,
        params=count_params(model))
    result.update(count_flops(model, inputs, samples))
    return result

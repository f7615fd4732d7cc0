"""Export a package config's model to ONNX and check it with ONNX Runtime.

``torch.onnx.export(..., dynamo=True)`` (``torch.export`` underneath): the
TorchScript exporter refuses these models, which hold tensors that require
grad as module attributes. The ONNX model is checked by running ONNX
Runtime and PyTorch on the same random input and comparing every output
(:func:`compare_with_pytorch`).
"""
import contextlib
import importlib
import math
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from torch import Tensor, nn

from .export_wrappers import DetExportWrapper, SegExportWrapper

#: what ``pip install 'mmplugin_transfuse[deploy]'`` installs
DEPLOY_MODULES = ('onnx', 'onnxruntime', 'onnxscript')

#: the tool's limits on a difference to PyTorch (``verify``): scale-relative
#: for logits and scores, a fraction of the image size for boxes
MAX_REL_DIFF = 1e-4
MAX_BOX_DIFF = 1e-3


def require_deploy_extra() -> None:
    """Import onnx, onnxruntime and onnxscript, or say how to get them."""
    missing = []
    for name in DEPLOY_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ImportError(
            f'ONNX export needs {", ".join(missing)}: pip install '
            '"mmplugin_transfuse[deploy]" (onnx, onnxruntime, onnxscript)')


def task_of(cfg: Config) -> str:
    """``'seg'`` or ``'det'`` from the config's ``default_scope``."""
    scope = cfg.get('default_scope')
    if scope not in ('mmseg', 'mmdet'):
        raise ValueError(
            f'{cfg.filename}: default_scope must be "mmseg" or "mmdet" to '
            f'export, got {scope!r}')
    return 'seg' if scope == 'mmseg' else 'det'


def build_model(cfg: Config, checkpoint: Optional[str]) -> nn.Module:
    """The config's model in eval mode on the CPU, with the checkpoint's
    weights (``None``: the constructors' random init; no pretrained weights
    are fetched either way)."""
    init_default_scope(cfg.default_scope)
    if task_of(cfg) == 'seg':
        from mmseg.registry import MODELS
    else:
        from mmdet.registry import MODELS
    model = MODELS.build(cfg.model)
    if checkpoint is not None:
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    return model.eval()


def size_divisor(cfg: Config, model: nn.Module) -> int:
    """What H and W of an exported model must be multiples of.

    Segmentation: the data preprocessor's ``size_divisor`` (16 for
    TransFuse, at least its patch size). Detection: the coarsest feature
    stride (the map sizes ``ceil(H / stride)`` then change with H only in
    steps of whole cells).
    """
    if task_of(cfg) == 'seg':
        from mmplugin_transfuse.seg.models.backbones import TransFuseBackbone
        divisor = cfg.model.data_preprocessor.get('size_divisor') or 1
        if isinstance(model.backbone, TransFuseBackbone):
            divisor = max(divisor, 16)  # 16-pixel patches, 1/16 CNN map
        return int(divisor)
    strides = getattr(model, 'feat_strides', None) or [
        getattr(model, 'feat_stride', 32)
    ]
    return int(max(strides))


def export_wrapper(cfg: Config, model: nn.Module) -> nn.Module:
    """The graph module of :mod:`.export_wrappers` for the config's task
    (any batch size for either)."""
    if task_of(cfg) == 'seg':
        return SegExportWrapper(model).eval()
    return DetExportWrapper(model).eval()


def output_names(cfg: Config) -> List[str]:
    return ['seg_logits'] if task_of(cfg) == 'seg' else ['dets', 'labels']


@contextlib.contextmanager
def traceable_shape_as_tensor():
    """``torch._shape_as_tensor`` that ``torch.export`` can trace.

    mmdet's ``DeformableDETR.pre_transformer`` (which the multi-scale SMCA
    model calls) builds each level's shape with ``torch._shape_as_tensor``,
    a TorchScript-era helper that fake tensors cannot run. While exporting it
    is replaced by the same ``(ndim,)`` int64 tensor built from the traced
    (symbolic) sizes.
    """
    original = torch._shape_as_tensor

    def shape_as_tensor(x: Tensor) -> Tensor:
        one = torch.ones((), dtype=torch.long, device=x.device)
        return torch.stack([one * size for size in x.shape])

    torch._shape_as_tensor = shape_as_tensor
    try:
        yield
    finally:
        torch._shape_as_tensor = original


def dynamic_input_shapes(example: Tensor,
                         dynamic_divisor: int,
                         dynamic_batch: bool = True) -> Dict:
    """``torch.export`` dynamic shapes of ``input``: H and W multiples of
    ``dynamic_divisor`` (at least 2 of them), N free when ``dynamic_batch``.

    Raises:
        ValueError: When the example cannot stand for those shapes (torch
            specialises traced sizes 0 and 1).
    """
    n, _, h, w = example.shape
    dims = {}
    if dynamic_batch:
        if n < 2:
            raise ValueError('a dynamic batch is traced with N >= 2')
        dims[0] = torch.export.Dim('batch', min=1, max=1024)
    top = 8192 // dynamic_divisor
    for axis, name, size in ((2, 'height', h), (3, 'width', w)):
        if size % dynamic_divisor or size < 2 * dynamic_divisor:
            raise ValueError(
                f'--shape: {size} must be a multiple of the size divisor '
                f'{dynamic_divisor}, at least twice it, for --dynamic')
        dims[axis] = torch.export.Dim(
            f'{name}_cells', min=2, max=top) * dynamic_divisor
    return {'input': dims}


def export_program(wrapper: nn.Module,
                   example: Tensor,
                   dynamic_divisor: int,
                   dynamic_batch: bool = True):
    """``torch.export.export`` of ``wrapper`` with dynamic N, H, W: the
    graph the ONNX exporter translates, without the translation.

    It fails on a data-dependent Python branch or a size frozen into the
    graph; its ``.module()`` runs the traced graph at other shapes.
    """
    shapes = dynamic_input_shapes(example, dynamic_divisor, dynamic_batch)
    with torch.no_grad(), traceable_shape_as_tensor():
        return torch.export.export(
            wrapper, (example, ), dynamic_shapes=shapes, strict=False)


def export_onnx(wrapper: nn.Module,
                example: Tensor,
                out_file: str,
                names: Sequence[str],
                dynamic_divisor: Optional[int] = None,
                dynamic_batch: bool = True,
                opset: int = 18) -> None:
    """Write the ONNX model of ``wrapper`` traced on ``example``.

    Args:
        wrapper (nn.Module): A module of :mod:`.export_wrappers`.
        example (Tensor): ``(N, 3, H, W)`` input to trace with (``N >= 2``
            and ``H, W >= 2 * dynamic_divisor`` for dynamic axes: torch
            specialises sizes 0 and 1).
        out_file (str): The ``.onnx`` file.
        names (list[str]): Output names.
        dynamic_divisor (int, optional): Make H and W dynamic multiples of
            this; None exports the example's static shape.
        dynamic_batch (bool): With ``dynamic_divisor``, N dynamic too
            (False: only H and W).
        opset (int): ONNX opset.
    """
    require_deploy_extra()
    dynamic_shapes = None
    if dynamic_divisor:
        dynamic_shapes = dynamic_input_shapes(example, dynamic_divisor,
                                              dynamic_batch)
    with torch.no_grad(), traceable_shape_as_tensor():
        torch.onnx.export(
            wrapper, (example, ),
            out_file,
            dynamo=True,
            input_names=['input'],
            output_names=list(names),
            dynamic_shapes=dynamic_shapes,
            opset_version=opset,
            external_data=False,
            verbose=False)


def _ort_session(onnx_file: str, threads: Optional[int] = None):
    require_deploy_extra()
    import onnxruntime as ort
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return ort.InferenceSession(
        onnx_file, options, providers=['CPUExecutionProvider'])


def compare_with_pytorch(wrapper: nn.Module,
                         onnx_file: str,
                         inputs: Sequence[Tensor],
                         names: Sequence[str],
                         session=None) -> List[Dict[str, float]]:
    """Run ONNX Runtime and PyTorch on each input; the largest differences.

    Returns one row per input and output: ``shape``, ``output``,
    ``max_abs`` (largest absolute difference), ``max_rel`` (``max_abs``
    over the largest PyTorch magnitude of that output; for boxes over the
    image's larger side), ``limit`` (on ``max_rel``) and ``ok``. Boxes (the
    first 4 columns of ``dets``) are judged against :data:`MAX_BOX_DIFF`,
    scores and logits against :data:`MAX_REL_DIFF`; labels must be equal.
    """
    session = session or _ort_session(onnx_file)
    rows = []
    for x in inputs:
        with torch.no_grad():
            ref = wrapper(x)
        ref = ref if isinstance(ref, tuple) else (ref, )
        got = session.run(list(names), {'input': x.numpy()})
        size = max(x.shape[-2:])
        for name, r, g in zip(names, ref, got):
            g = torch.from_numpy(g)
            if g.shape != r.shape:
                rows.append(
                    dict(shape=tuple(x.shape), output=name, max_abs=math.inf,
                         max_rel=math.inf, limit=0., ok=False))
                continue
            parts: List[Tuple[str, Tensor, Tensor, str]]
            if name == 'dets':
                parts = [('dets[boxes]', r[..., :4], g[..., :4], 'box'),
                         ('dets[scores]', r[..., 4], g[..., 4], 'rel')]
            elif name == 'labels':
                parts = [(name, r, g, 'equal')]
            else:
                parts = [(name, r, g, 'rel')]
            for label, a, b, kind in parts:
                diff = (a.double() - b.double()).abs().max().item()
                scale = a.double().abs().max().item() or 1.
                if kind == 'box':
                    limit, rel = MAX_BOX_DIFF, diff / size
                    ok = rel <= limit
                elif kind == 'equal':
                    limit, rel, ok = 0., diff, diff == 0
                else:
                    limit, rel = MAX_REL_DIFF, diff / scale
                    ok = rel <= limit
                rows.append(
                    dict(shape=tuple(x.shape), output=label, max_abs=diff,
                         max_rel=rel, limit=limit, ok=bool(ok)))
    return rows


def format_rows(rows: Sequence[Dict]) -> str:
    """The comparison as a table."""
    lines = ['| input | output | max abs diff | relative | limit | ok |',
             '|---|---|---|---|---|---|']
    for r in rows:
        lines.append(f"| {'x'.join(map(str, r['shape']))} | {r['output']} | "
                     f"{r['max_abs']:.3g} | {r['max_rel']:.3g} | "
                     f"{r['limit']:.3g} | {'yes' if r['ok'] else 'NO'} |")
    return '\n'.join(lines)

#!/usr/bin/env python
"""Latency, parameters and FLOPs of the package's models next to the model zoo.

One process, one device, the same random input for every model of a row
group: each model is built from its config with random weights (no
download), put in eval mode and run as ``model(inputs, data_samples,
mode='tensor')`` - the whole network (backbone, neck, transformer / decoder,
heads) without the post-processing (box decoding, NMS-free top-k, resizing
of masks), batch 1. Timing: ``--warmup`` untimed runs per model, then
``--runs`` timed rounds; in each round every model runs once, one after the
other (round-robin), so a change of machine load during the measurement
affects every model alike. The table gives the median (and the spread
between the 25th and 75th percentile) per model and each column's ratio to
the first row of its group (the baseline).

FLOPs are fvcore-style (one multiply-add = one FLOP) from mmengine's
``FlopAnalyzer`` with the package tools' rules for attention with an
additive mask (``baddbmm``) and fused attention
(``scaled_dot_product_attention``), see
``mmplugin_transfuse.utils.benchmark.flop_analyzer_total``.

``--compile`` adds, per model, a row for the model under
``torch.compile`` (inductor; the compilation happens in the warm-up runs,
so give ``--warmup`` >= 1), ``--amp`` one for the eager model under
autocast (bfloat16 on CPU, float16 on CUDA); ``vs_pytorch`` is each row's
latency over the eager float32 row of its model. ``--train-step`` times a
training step too (``mode='loss'`` forward on random targets, backward and
the config's optimizer step, on a copy of the model in training mode),
with the same backends, in rows of ``stage`` ``train``.

``--backends pytorch onnxruntime`` adds, per model and size, a row for the
model exported to ONNX (``tools/deployment/pytorch2onnx.py``'s graph, static
shape) and run by ONNX Runtime on as many threads as torch uses, timed in
the same rounds; ``vs_pytorch`` is its latency over the PyTorch row of the
same model. The exported detectors include DETR's post-processing (top-k
and box conversion, ~0.1 % of the work), the PyTorch rows do not.

Examples::

    python tools/benchmark/latency.py                       # det + seg tables
    python tools/benchmark/latency.py --task det --sizes 512x512 \
        --extra configs/smca_detr/smca-detr-ms_r50_8xb2-50e_coco.py
    python tools/benchmark/latency.py --task seg --device cuda --runs 50
    python tools/benchmark/latency.py --backends pytorch onnxruntime \
        --rows TransFuse-S "(300 q)" --seg-sizes 352x352 --det-sizes 512x512
    python tools/benchmark/latency.py --compile --amp --train-step \
        --rows TransFuse-S "single-scale (300 q)" --seg-sizes 352x352 \
        --det-sizes 512x512 --threads 2
"""
import argparse
import os
import os.path as osp
import statistics
import tempfile
import time
from typing import Any, Dict, List, Sequence, Tuple

import torch

from mmplugin_transfuse.utils import benchmark as common

SMCA_R50 = 'configs/smca_detr/smca-detr_r50_8xb2-50e_coco.py'
# SMCA's attentions through mmcv's MultiheadAttention (before the fused path)
UNFUSED = {
    'model.encoder.layer_cfg.fused_attention': False,
    'model.decoder.layer_cfg.fused_attention': False,
}
# (name, config[, config overrides]); the first entry of each list is the
# baseline of the ratios
DET_MODELS: List[Tuple] = [
    ('DETR-R50 (mmdet, 100 q)', 'mmdet::detr/detr_r50_8xb2-150e_coco.py'),
    ('SMCA-DETR-R50 single-scale (300 q)', SMCA_R50),
    ('SMCA-DETR-R50 single-scale, unfused attention', SMCA_R50, UNFUSED),
    # the paper's 300 queries triple the decoder's work; at DETR's 100 the
    # row isolates what the spatial prior itself costs
    ('SMCA-DETR-R50 single-scale, 100 q', SMCA_R50,
     {'model.num_queries': 100}),
    ('Conditional DETR-R50 (mmdet)',
     'mmdet::conditional_detr/conditional-detr_r50_8xb2-50e_coco.py'),
    ('DAB-DETR-R50 (mmdet)', 'mmdet::dab_detr/dab-detr_r50_8xb2-50e_coco.py'),
    ('Deformable DETR-R50 (mmdet)',
     'mmdet::deformable_detr/deformable-detr_r50_16xb2-50e_coco.py'),
]
SEG_MODELS: List[Tuple] = [
    ('UNet-S5-D16 (mmseg)',
     'mmseg::unet/unet-s5-d16_fcn_4xb4-40k_hrf-256x256.py'),
    ('TransFuse-S', 'configs/transfuse/'
     'transfuse-s_r34-deit-s_1xb16-30e_polyp-352x352.py'),
    ('TransFuse-L',
     'configs/transfuse/transfuse-l_r50-deit-b_1xb16-30e_polyp-352x352.py'),
    ('SegFormer-B0 (mmseg)',
     'mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py'),
]
DET_SIZES = ['512x512', '800x1216']
SEG_SIZES = ['192x256', '352x352']
COLUMNS = [
    'task', 'size', 'model', 'config', 'stage', 'backend', 'device',
    'params_M',
    'GFLOPs', 'latency_ms', 'latency_p25_ms', 'latency_p75_ms', 'runs',
    'latency_ratio', 'flops_ratio', 'params_ratio', 'vs_pytorch'
]
# pytorch: eager float32; compiled: torch.compile (inductor) of the same
# model; amp: eager under autocast (bfloat16 on CPU, float16 on CUDA)
BACKENDS = ('pytorch', 'compiled', 'amp', 'onnxruntime')


def _sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def time_models(runners: Dict[str, Any], warmup: int, runs: int,
                device: str, grad: bool = False) -> Dict[str, List[float]]:
    """Seconds per call of each runner (name -> no-argument callable):
    ``warmup`` untimed calls each, then ``runs`` round-robin rounds of one
    timed call per runner (under ``torch.no_grad`` unless ``grad``)."""
    times: Dict[str, List[float]] = {name: [] for name in runners}
    with torch.set_grad_enabled(grad):
        for run in runners.values():
            for _ in range(warmup):
                run()
            _sync(device)
        for _ in range(runs):
            for name, run in runners.items():
                _sync(device)
                start = time.perf_counter()
                run()
                _sync(device)
                times[name].append(time.perf_counter() - start)
    return times


def onnxruntime_runner(m: Dict[str, Any], inputs: torch.Tensor,
                       folder: str):
    """Export ``m``'s model at the shape of ``inputs``; a callable that
    runs the ONNX model with ONNX Runtime on torch's thread count."""
    from mmplugin_transfuse.deploy import export_onnx, export_wrapper
    from mmplugin_transfuse.deploy.onnx_export import (_ort_session,
                                                       output_names)
    path = osp.join(folder, f'{len(os.listdir(folder))}.onnx')
    model = m['model'].cpu()
    export_onnx(export_wrapper(m['cfg'], model), inputs.cpu(), path,
                output_names(m['cfg']))
    session = _ort_session(path, torch.get_num_threads())
    feed = {'input': inputs.cpu().numpy()}
    return lambda: session.run(None, feed)


def amp_dtype(device: str) -> torch.dtype:
    """Autocast dtype of ``--amp``: float16 on CUDA, bfloat16 on CPU."""
    return torch.float16 if device.startswith('cuda') else torch.bfloat16


def inference_runner(model: torch.nn.Module, backend: str,
                     inputs: torch.Tensor, samples: Sequence[Any],
                     device: str):
    """``model(inputs, samples, mode='tensor')`` as ``backend`` runs it
    (eval mode)."""
    forward = torch.compile(model) if backend == 'compiled' else model

    def run():
        with torch.autocast(device.split(':')[0], dtype=amp_dtype(device),
                            enabled=backend == 'amp'):
            return forward(inputs, list(samples), mode='tensor')

    return run


def train_step_runner(m: Dict[str, Any], backend: str, inputs: torch.Tensor,
                      samples: Sequence[Any], device: str):
    """One training step of a copy of ``m``'s model: ``mode='loss'``
    forward, backward and the config's optimizer step (its
    ``optim_wrapper`` as a plain ``OptimWrapper``: optimizer, gradient
    clipping, parameter-wise settings)."""
    import copy

    from mmengine.optim import build_optim_wrapper
    model = copy.deepcopy(m['model']).train()
    optim_cfg = dict(m['cfg'].get('optim_wrapper') or dict(
        optimizer=dict(type='AdamW', lr=1e-4)))
    for key in ('loss_scale', 'dtype'):
        optim_cfg.pop(key, None)
    optim = build_optim_wrapper(model, dict(optim_cfg, type='OptimWrapper'))
    forward = torch.compile(model) if backend == 'compiled' else model

    def run():
        with torch.autocast(device.split(':')[0], dtype=amp_dtype(device),
                            enabled=backend == 'amp'):
            losses = forward(inputs, list(samples), mode='loss')
        loss, _ = model.parse_losses(losses)
        optim.update_params(loss)

    return run


def _quantile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def benchmark_group(task: str, entries: Sequence[Tuple],
                    sizes: Sequence[str], args: argparse.Namespace,
                    cfg_options: Dict[str, Any] = None) -> List[Dict]:
    """Rows for one task: every model of ``entries`` (``(name, config[,
    overrides])``) at every size."""
    models = []
    for name, config, *own in entries:
        options = dict(cfg_options or {}, **(own[0] if own else {}))
        cfg = common.load_config(config, options)
        if common.task_of(cfg) != task:
            raise ValueError(f'{config}: a {common.task_of(cfg)} config in '
                             f'the {task} group')
        model = common.build_model(cfg).to(args.device)
        models.append(dict(name=name, config=config, cfg=cfg, model=model))
        print(f'built {name} ({config})', flush=True)
    rows = []
    for size in sizes:
        height, width = common.parse_size(size)
        # the same input tensor for every model (detectors and segmentors
        # of one group share the channel count: 3)
        inputs, samples = common.make_inputs(
            models[0]['cfg'], 1, height, width, device=args.device)
        for m in models:
            if common.in_channels_of(m['cfg']) != inputs.shape[1]:
                raise ValueError(f'{m["config"]} expects '
                                 f'{common.in_channels_of(m["cfg"])}-channel '
                                 f'input, the baseline {inputs.shape[1]}')
        flops = {}
        if not args.no_flops:
            for m in models:
                try:
                    flops[m['name']] = common.flop_analyzer_total(
                        m['model'], inputs, samples)
                except Exception as exc:  # a model jit cannot trace
                    print(f'FLOPs of {m["name"]} not counted: {exc!r}')
        runners = {}  # (model name, stage, backend) -> callable
        with tempfile.TemporaryDirectory() as folder:
            for m in models:
                for backend in args.backends:
                    key = m['name'], 'inference', backend
                    if backend == 'onnxruntime':
                        runners[key] = onnxruntime_runner(m, inputs, folder)
                    else:
                        runners[key] = inference_runner(
                            m['model'], backend, inputs, samples,
                            args.device)
            times = time_models(runners, args.warmup, args.runs, args.device)
        if args.train_step:
            train_inputs, train_samples = common.make_inputs(
                models[0]['cfg'], 1, height, width, with_targets=True,
                device=args.device)
            train_runners = {(m['name'], 'train', backend): train_step_runner(
                m, backend, train_inputs, train_samples, args.device)
                             for m in models for backend in args.backends
                             if backend != 'onnxruntime'}
            times.update(time_models(train_runners, args.warmup, args.runs,
                                     args.device, grad=True))
        first = len(rows)
        for m in models:
            for stage, backend in [(st, b) for st in ('inference', 'train')
                                   for b in args.backends]:
                if (m['name'], stage, backend) not in times:
                    continue
                t = times[m['name'], stage, backend]
                rows.append(
                    dict(
                        task=task,
                        size=f'{height}x{width}',
                        model=m['name'],
                        config=m['config'],
                        stage=stage,
                        backend=backend,
                        device='cpu'
                        if backend == 'onnxruntime' else args.device,
                        params_M=common.count_params(m['model']) / 1e6,
                        GFLOPs=flops[m['name']] / 1e9
                        if m['name'] in flops else '',
                        latency_ms=statistics.median(t) * 1e3,
                        latency_p25_ms=_quantile(t, 0.25) * 1e3,
                        latency_p75_ms=_quantile(t, 0.75) * 1e3,
                        runs=len(t)))
        group = rows[first:]
        # the baseline of each stage: the group's first model, first backend
        base_of = {}
        for row in group:
            base_of.setdefault(row['stage'], row)
        by_model = {(r['model'], r['stage'], r['backend']): r for r in group}
        for row in group:
            base = base_of[row['stage']]
            row['latency_ratio'] = row['latency_ms'] / base['latency_ms']
            row['params_ratio'] = row['params_M'] / base['params_M']
            if row['GFLOPs'] != '' and base['GFLOPs'] != '':
                row['flops_ratio'] = row['GFLOPs'] / base['GFLOPs']
            torch_row = by_model.get((row['model'], row['stage'], 'pytorch'))
            if torch_row is not None:
                row['vs_pytorch'] = (
                    row['latency_ms'] / torch_row['latency_ms'])
        common.print_table(group, [
            'size', 'model', 'stage', 'backend', 'params_M', 'GFLOPs',
            'latency_ms', 'latency_p25_ms', 'latency_p75_ms', 'latency_ratio',
            'flops_ratio', 'vs_pytorch'
        ])
    return rows


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--task', choices=['det', 'seg', 'all'],
                        default='all')
    parser.add_argument(
        '--extra',
        nargs='+',
        default=[],
        metavar='CONFIG',
        help='more configs, appended to the group of their scope '
        '(mmdet -> det, mmseg -> seg), e.g. the multi-scale SMCA config')
    parser.add_argument(
        '--det-models',
        nargs='+',
        metavar='CONFIG',
        help='replace the default detection list (first = baseline)')
    parser.add_argument(
        '--seg-models',
        nargs='+',
        metavar='CONFIG',
        help='replace the default segmentation list (first = baseline)')
    parser.add_argument(
        '--rows',
        nargs='+',
        metavar='TEXT',
        help='keep only the default rows whose name contains one of these '
        '(the first kept row is the baseline), e.g. --rows '
        '"(mmdet, 100 q)" "(300 q)" ", 100 q"')
    parser.add_argument('--det-sizes', nargs='+', default=DET_SIZES,
                        metavar='HxW')
    parser.add_argument('--seg-sizes', nargs='+', default=SEG_SIZES,
                        metavar='HxW')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--runs', type=int, default=10)
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--backends',
        nargs='+',
        choices=BACKENDS,
        default=['pytorch'],
        help='pytorch (eager float32), compiled (torch.compile, inductor), '
        'amp (autocast: bfloat16 on CPU, float16 on CUDA) and/or '
        'onnxruntime (the exported model, CPU); vs_pytorch is each row over '
        'the eager float32 row of its model')
    parser.add_argument('--compile', action='store_true',
                        help='add the compiled rows (= --backends ... '
                        'compiled)')
    parser.add_argument('--amp', action='store_true',
                        help='add the autocast rows (= --backends ... amp)')
    parser.add_argument(
        '--train-step',
        action='store_true',
        help='also time one training step per model and backend: loss '
        'forward with random targets, backward, the optimizer step')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch.set_num_threads (CPU)')
    parser.add_argument('--no-flops', action='store_true')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        metavar='KEY=VALUE',
        help='overrides applied to every config (tests use them to shrink '
        'the models), values parsed as Python literals')
    parser.add_argument('--out', default='work_dirs/benchmark/latency.csv')
    args = parser.parse_args(argv)
    for flag, backend in ((args.compile, 'compiled'), (args.amp, 'amp')):
        if flag and backend not in args.backends:
            args.backends.append(backend)
    if ('compiled' in args.backends or 'amp' in args.backends) and \
            'pytorch' not in args.backends:
        args.backends.insert(0, 'pytorch')  # the rows' reference
    if args.runs < 1 or args.warmup < 0:
        parser.error('--runs must be >= 1 and --warmup >= 0')
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        parser.error(f'--device {args.device}: no CUDA device is available')
    if 'onnxruntime' in args.backends:
        from mmplugin_transfuse.deploy import require_deploy_extra
        require_deploy_extra()
    args.cfg_options = common.parse_cfg_options(args.cfg_options)
    return args


def _entries(configs, defaults, rows=None) -> List[Tuple]:
    """The rows of one group: ``configs`` (named after their files), else
    the ``defaults`` whose name contains one of ``rows`` (all without)."""
    if configs is not None:
        return [(osp.splitext(osp.basename(c))[0], c) for c in configs]
    return [e for e in defaults if not rows or any(r in e[0] for r in rows)]


def main(argv=None) -> List[Dict]:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    det = _entries(args.det_models, DET_MODELS, args.rows)
    seg = _entries(args.seg_models, SEG_MODELS, args.rows)
    for config in args.extra:
        task = common.task_of(common.load_config(config))
        (det if task == 'det' else seg).append(
            (osp.splitext(osp.basename(config))[0], config))
    print(f'device {args.device}, torch threads {torch.get_num_threads()}, '
          f'warm-up {args.warmup}, {args.runs} timed runs per model')
    rows = []
    # a group that --rows emptied is skipped
    if args.task in ('det', 'all') and det:
        rows += benchmark_group('det', det, args.det_sizes, args,
                                args.cfg_options)
    if args.task in ('seg', 'all') and seg:
        rows += benchmark_group('seg', seg, args.seg_sizes, args,
                                args.cfg_options)
    if not rows:
        raise ValueError(f'--rows {args.rows} matched no row of the '
                         f'{args.task} group(s)')
    common.write_csv(args.out, rows, COLUMNS)
    return rows


if __name__ == '__main__':
    main()

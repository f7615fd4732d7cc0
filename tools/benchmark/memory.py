#!/usr/bin/env python
"""Peak memory of one training step of the package's models and the zoo's.

Each model is measured in its own subprocess (so one model's allocations
cannot hide another's), built from its config with random weights, in
training mode, with random inputs and targets (3 boxes per image for
detectors, a random class mask for segmentors) and the config's own
``optim_wrapper`` (optimizer, gradient clipping, parameter-wise lr).
``--steps`` steps run (default 2: the first creates the optimizer state);
the peak of the last one is reported, so the figure is the steady-state
training footprint: weights + gradients + optimizer state + activations.

* CPU: ``peak - base`` of the process's resident set size, where ``base``
  is the RSS after the imports (before the model is built) and ``peak`` the
  kernel's high-water mark (``VmHWM``) during the measured step; the mark is
  reset before that step through ``/proc/self/clear_refs`` (Linux). Figures
  include allocator slack and are comparable between models of one run.
* CUDA: ``torch.cuda.max_memory_allocated`` during the measured step (peak
  statistics reset before it), the figure mmdet/mmseg log as ``memory``.

Default input sizes are the papers': SMCA-DETR and the DETR family at
800x1216, batch 2 (the papers' 2 images per GPU); TransFuse and the
segmentation baselines at 192x256 (ISIC 2017) and 352x352 (polyp), batch 16
on GPU in the papers; ``--seg-batch`` (default 4 here) sets it.

    python tools/benchmark/memory.py                 # det + seg tables
    python tools/benchmark/memory.py --task seg --seg-batch 16 --device cuda
    python tools/benchmark/memory.py --compile --amp   # + compiled, AMP rows

``--compile`` and ``--amp`` add per model a row with the forward under
``torch.compile`` and one under autocast (bfloat16 on CPU, float16 on
CUDA); ``vs_pytorch`` is a row's peak over the model's eager float32 row.
"""
import argparse
import gc
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

from mmplugin_transfuse.utils import benchmark as common

latency = common.load_tool('benchmark/latency.py')  # the same model lists

COLUMNS = [
    'task', 'size', 'batch', 'model', 'config', 'backend', 'device',
    'peak_MB', 'base_MB', 'step_s', 'memory_ratio', 'vs_pytorch'
]
RESULT_TAG = 'MEMORY_RESULT '


def _proc_status_kb(field: str) -> int:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise RuntimeError(f'/proc/self/status has no {field} line')


def _reset_peak_rss() -> None:
    # "5" resets the peak RSS (VmHWM) to the current RSS, Linux >= 4.0
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')


def measure(config: str, height: int, width: int, batch: int, device: str,
            steps: int, cfg_options: Optional[Dict[str, Any]] = None,
            backend: str = 'pytorch') -> Dict[str, float]:
    """Peak memory (MB) of the last of ``steps`` training steps (this
    process: call it in a fresh subprocess for a clean CPU figure).

    ``backend``: ``pytorch`` (eager float32), ``compiled`` (the forward
    under ``torch.compile``; the first step compiles) or ``amp`` (the
    forward under autocast: bfloat16 on CPU, float16 on CUDA).
    """
    import torch
    on_cuda = device.startswith('cuda')
    if not on_cuda and not osp.exists('/proc/self/clear_refs'):
        raise RuntimeError('CPU memory needs Linux /proc/self/clear_refs')
    # everything imported before the base line, so that `peak - base` is
    # the model's and the step's memory, not the libraries'
    import mmdet.models  # noqa: F401
    import mmdet.structures  # noqa: F401
    import mmseg.models  # noqa: F401
    import mmseg.structures  # noqa: F401
    from mmengine.optim import build_optim_wrapper

    import mmplugin_transfuse  # noqa: F401
    cfg = common.load_config(config, cfg_options)
    gc.collect()
    base_kb = _proc_status_kb('VmRSS')
    model = common.build_model(cfg).to(device).train()
    optim_cfg = cfg.get('optim_wrapper')
    if optim_cfg is None:
        raise KeyError(f'config {config!r} has no optim_wrapper')
    optim_cfg = dict(optim_cfg)
    if not on_cuda and optim_cfg.get('type') == 'AmpOptimWrapper':
        optim_cfg['type'] = 'OptimWrapper'  # AMP needs CUDA here
        optim_cfg.pop('loss_scale', None)
    optim_wrapper = build_optim_wrapper(model, optim_cfg)
    inputs, samples = common.make_inputs(
        cfg, batch, height, width, with_targets=True, device=device)
    forward = torch.compile(model) if backend == 'compiled' else model
    for step in range(steps):
        last = step == steps - 1
        if last:
            gc.collect()
            if on_cuda:
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
            else:
                _reset_peak_rss()
            start = time.perf_counter()
        with torch.autocast(device.split(':')[0],
                            dtype=latency.amp_dtype(device),
                            enabled=backend == 'amp'):
            losses = forward(inputs, list(samples), mode='loss')
        loss, _ = model.parse_losses(losses)
        optim_wrapper.update_params(loss)
        del losses, loss
    if on_cuda:
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() / 2**20
        base = 0.0
    else:
        peak = (_proc_status_kb('VmHWM') - base_kb) / 1024
        base = base_kb / 1024
    return dict(
        peak_MB=peak, base_MB=base, step_s=time.perf_counter() - start)


def run_child(config: str, size: str, batch: int, args,
              backend: str = 'pytorch',
              overrides: Optional[Dict[str, Any]] = None) -> Dict[str, float]:
    """``measure`` in a fresh Python process; its result line is JSON."""
    cmd = [
        sys.executable,
        osp.abspath(__file__), '--child', config, '--size', size, '--batch',
        str(batch), '--device', args.device, '--steps',
        str(args.steps), '--backend', backend
    ]
    if args.threads:
        cmd += ['--threads', str(args.threads)]
    options = dict(args.cfg_options, **(overrides or {}))
    if options:
        cmd += ['--cfg-options', json.dumps(options)]
    proc = subprocess.run(cmd, capture_output=True, text=True,
                          env=dict(os.environ))
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG):])
    raise RuntimeError(
        f'memory measurement of {config} at {size} failed '
        f'(exit {proc.returncode}):\n{proc.stderr[-3000:]}')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--task', choices=['det', 'seg', 'all'],
                        default='all')
    parser.add_argument('--extra', nargs='+', default=[], metavar='CONFIG',
                        help='more configs, added to the group of their '
                        'scope (mmdet -> det, mmseg -> seg)')
    parser.add_argument('--det-models', nargs='+', metavar='CONFIG')
    parser.add_argument('--seg-models', nargs='+', metavar='CONFIG')
    parser.add_argument('--det-sizes', nargs='+', default=['800x1216'],
                        metavar='HxW')
    parser.add_argument('--seg-sizes', nargs='+',
                        default=latency.SEG_SIZES, metavar='HxW')
    parser.add_argument('--det-batch', type=int, default=2)
    parser.add_argument('--seg-batch', type=int, default=4)
    parser.add_argument('--steps', type=int, default=2)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        metavar='KEY=VALUE')
    parser.add_argument('--compile', action='store_true',
                        help='add a row per model with the forward under '
                        'torch.compile (inductor)')
    parser.add_argument('--amp', action='store_true',
                        help='add a row per model with the forward under '
                        'autocast (bfloat16 on CPU, float16 on CUDA)')
    parser.add_argument('--out', default='work_dirs/benchmark/memory.csv')
    # internal: one measurement in this process
    parser.add_argument('--child', metavar='CONFIG', help=argparse.SUPPRESS)
    parser.add_argument('--size', help=argparse.SUPPRESS)
    parser.add_argument('--batch', type=int, help=argparse.SUPPRESS)
    parser.add_argument('--backend', default='pytorch',
                        choices=['pytorch', 'compiled', 'amp'],
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error('--steps must be >= 1')
    if args.child:
        args.cfg_options = (json.loads(args.cfg_options[0])
                            if args.cfg_options else {})
    else:
        args.cfg_options = common.parse_cfg_options(args.cfg_options)
    return args


def main(argv=None) -> List[Dict]:
    args = parse_args(argv)
    if args.child:
        import torch
        if args.threads:
            torch.set_num_threads(args.threads)
        height, width = common.parse_size(args.size)
        result = measure(args.child, height, width, args.batch, args.device,
                         args.steps, args.cfg_options, args.backend)
        print(RESULT_TAG + json.dumps(result), flush=True)
        return [result]
    det = latency._entries(args.det_models, latency.DET_MODELS)
    seg = latency._entries(args.seg_models, latency.SEG_MODELS)
    for config in args.extra:
        task = common.task_of(common.load_config(config))
        (det if task == 'det' else seg).append(
            (osp.splitext(osp.basename(config))[0], config))
    groups: List[Tuple[str, list, list, int]] = []
    if args.task in ('det', 'all'):
        groups.append(('det', det, args.det_sizes, args.det_batch))
    if args.task in ('seg', 'all'):
        groups.append(('seg', seg, args.seg_sizes, args.seg_batch))
    backends = ['pytorch'] + ['compiled'] * args.compile + ['amp'] * args.amp
    rows = []
    for task, entries, sizes, batch in groups:
        for size in sizes:
            common.parse_size(size)  # fail early on a malformed size
            group = []
            for name, config, *own in entries:
                eager = None
                for backend in backends:
                    # a row's own overrides (e.g. the unfused attention)
                    result = run_child(config, size, batch, args, backend,
                                       own[0] if own else None)
                    row = dict(task=task, size=size, batch=batch, model=name,
                               config=config, backend=backend,
                               device=args.device, **result)
                    eager = eager or row
                    row['vs_pytorch'] = row['peak_MB'] / eager['peak_MB']
                    group.append(row)
                    print(f'{name} ({backend}) {size} x{batch}: '
                          f'{result["peak_MB"]:.0f} MB', flush=True)
            for row in group:
                row['memory_ratio'] = row['peak_MB'] / group[0]['peak_MB']
            common.print_table(group, [
                'size', 'batch', 'model', 'backend', 'peak_MB', 'step_s',
                'memory_ratio', 'vs_pytorch'
            ])
            rows += group
    common.write_csv(args.out, rows, COLUMNS)
    return rows


if __name__ == '__main__':
    main()

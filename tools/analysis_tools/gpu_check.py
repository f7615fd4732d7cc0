"""One check of the package on a GPU (or, without CUDA, its CPU parts).

Rows of one table, each ``ok`` / ``FAIL`` / ``skip``:

* ``mmcv.ops``: whether mmcv was compiled with CUDA kernels, and which
  ``mmcv.ops`` modules TransFuse-S, SMCA-R50 and SMCA-MS-R50 contain at all.
* ``cpu==cuda``: fp32 ``forward(mode='tensor')`` of each model with the same
  weights on the CPU and on CUDA (max abs difference, relative tolerance).
* ``amp train``: a few training steps (forward, backward, optimizer step)
  of each model at its paper's input size with mmengine's
  :class:`AmpOptimWrapper` (float16) on CUDA; on the CPU, bfloat16 autocast
  with :class:`OptimWrapper` at a small size (``AmpOptimWrapper`` needs an
  accelerator). Losses must be finite.
* ``images/s``: inference throughput of SMCA-R50 vs mmdet's DETR-R50 and of
  TransFuse-S vs mmseg's UNet, eager and ``torch.compile``-d, in the same
  run, with the ratio and the peak memory.

Exit status 1 if any row fails, else 0 (also when CUDA is absent: then the
CUDA rows say ``skip``).
"""
import argparse
import math
import os.path as osp
import resource
import sys
import time
from typing import Any, Callable, Dict, List

import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from mmplugin_transfuse.utils.benchmark import (build_model,  # noqa: E402
                                                load_config, make_inputs)

MODELS = {
    'TransFuse-S': ('configs/transfuse/'
                    'transfuse-s_r34-deit-s_1xb16-30e_polyp-352x352.py',
                    (352, 352)),
    'SMCA-R50': ('configs/smca_detr/smca-detr_r50_8xb2-50e_coco.py',
                 (800, 1216)),
    'SMCA-MS-R50': ('configs/smca_detr/smca-detr-ms_r50_8xb2-50e_coco.py',
                    (800, 1216)),
}
BASELINES = {
    'SMCA-R50': ('DETR-R50', 'mmdet::detr/detr_r50_8xb2-150e_coco.py'),
    'TransFuse-S': ('UNet-S5-D16',
                    'mmseg::unet/unet-s5-d16_fcn_4xb4-40k_hrf-256x256.py'),
}


def _config(path: str):
    return load_config(path if path.startswith('mm') else osp.join(REPO, path))


def _build(path: str, device: str):
    torch.manual_seed(0)
    cfg = _config(path)
    model = build_model(cfg)
    model.init_weights()
    return cfg, model.to(device)


def _leaves(out: Any) -> List[torch.Tensor]:
    return [
        t for t in torch.utils._pytree.tree_leaves(out)
        if isinstance(t, torch.Tensor)
    ]


def _sync(device: str) -> None:
    if device == 'cuda':
        torch.cuda.synchronize()


def check_mmcv_ops(rows: List[Dict], cuda: bool) -> None:
    import mmcv.ops
    version = mmcv.ops.get_compiling_cuda_version()
    used = {}
    for name, (path, _) in MODELS.items():
        _, model = _build(path, 'cpu')
        used[name] = sorted({
            type(m).__name__
            for m in model.modules()
            if type(m).__module__.startswith('mmcv.ops')
        })
    names = '; '.join(f'{k}: {", ".join(v) or "none"}'
                      for k, v in used.items())
    has_cuda = version != 'not available'
    needed = any(used.values())
    # kernels are required only if a model uses an mmcv op on a GPU
    status = 'FAIL' if (cuda and needed and not has_cuda) else 'ok'
    rows.append(dict(check='mmcv.ops', model='all', status=status,
                     detail=f'CUDA kernels: {version}; ops used: {names}'))


def check_cpu_vs_cuda(rows: List[Dict], size) -> None:
    for name, (path, _) in MODELS.items():
        cfg, model = _build(path, 'cpu')
        model.eval()
        inputs, samples = make_inputs(cfg, 1, *size)
        with torch.no_grad():
            ref = _leaves(model(inputs, samples, mode='tensor'))
            model.cuda()
            old = torch.backends.cuda.matmul.allow_tf32
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
            got = _leaves(model(inputs.cuda(), [s.cuda() for s in samples],
                                mode='tensor'))
            torch.backends.cuda.matmul.allow_tf32 = old
        diff = max(float((a - b.cpu()).abs().max()) for a, b in zip(ref, got))
        scale = max(float(a.abs().max()) for a in ref)
        ok = len(ref) == len(got) and diff <= 1e-3 * max(scale, 1.0)
        rows.append(dict(check='cpu==cuda fp32', model=name,
                         status='ok' if ok else 'FAIL',
                         detail=f'max |diff| {diff:.2e} (max |out| '
                         f'{scale:.2e}) at {size[0]}x{size[1]}'))


def check_amp_train(rows: List[Dict], device: str, steps: int,
                    small) -> None:
    from mmengine.optim import AmpOptimWrapper, OptimWrapper
    for name, (path, paper_size) in MODELS.items():
        size = paper_size if device == 'cuda' else small
        batch = 2 if device == 'cuda' else 1
        cfg, model = _build(path, device)
        model.train()
        optim = torch.optim.AdamW(model.parameters(), lr=1e-5)
        if device == 'cuda':
            wrapper = AmpOptimWrapper(optimizer=optim, dtype='float16')
            ctx = wrapper.optim_context
        else:
            wrapper = OptimWrapper(optimizer=optim)

            def ctx(_model):
                return torch.autocast('cpu', dtype=torch.bfloat16)
        losses = []
        try:
            for step in range(steps):
                inputs, samples = make_inputs(cfg, batch, *size, True,
                                              device, seed=step)
                with ctx(model):
                    parsed = model(inputs, samples, mode='loss')
                    loss, _ = model.parse_losses(parsed)
                wrapper.update_params(loss)
                losses.append(float(loss.detach()))
            ok = all(math.isfinite(v) for v in losses)
            detail = ', '.join(f'{v:.3f}' for v in losses)
        except Exception as err:  # a failing step fails the row
            ok, detail = False, f'{type(err).__name__}: {str(err)[:120]}'
        kind = 'fp16 AmpOptimWrapper' if device == 'cuda' else 'bf16 autocast'
        rows.append(dict(check=f'amp train ({kind})', model=name,
                         status='ok' if ok else 'FAIL',
                         detail=f'{batch}x{size[0]}x{size[1]}, losses '
                         f'{detail}'))


def _throughput(fn: Callable, device: str, runs: int) -> float:
    fn()
    fn()
    _sync(device)
    start = time.perf_counter()
    for _ in range(runs):
        fn()
    _sync(device)
    return runs / (time.perf_counter() - start)


def check_throughput(rows: List[Dict], device: str, runs: int, batch: int,
                     compile_: bool, small) -> None:
    for name, (base_name, base_path) in BASELINES.items():
        path, paper_size = MODELS[name]
        size = paper_size if device == 'cuda' else small
        rates = {}
        for label, cfg_path in ((name, path), (base_name, base_path)):
            cfg, model = _build(cfg_path, device)
            model.eval()
            inputs, samples = make_inputs(cfg, batch, *size, False, device)
            modes = [('eager', model)]
            if compile_:
                modes.append(('compiled', torch.compile(model)))
            for mode, m in modes:
                if device == 'cuda':
                    torch.cuda.reset_peak_memory_stats()

                def fn(m=m):
                    with torch.no_grad():
                        return m(inputs, samples, mode='tensor')
                try:
                    rate = batch * _throughput(fn, device, runs)
                except Exception as err:
                    rows.append(dict(check=f'images/s {mode}', model=label,
                                     status='FAIL',
                                     detail=f'{type(err).__name__}: '
                                     f'{str(err)[:120]}'))
                    continue
                rates[(label, mode)] = rate
                if device == 'cuda':
                    peak = f'{torch.cuda.max_memory_allocated() / 2**20:.0f}'\
                        ' MiB GPU'
                else:
                    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                    peak = f'{rss / 1024:.0f} MiB RSS (process)'
                rows.append(dict(check=f'images/s {mode}', model=label,
                                 status='ok',
                                 detail=f'{rate:.2f} img/s, {batch}x'
                                 f'{size[0]}x{size[1]}, peak {peak}'))
            del model
        for mode in ('eager', 'compiled'):
            if (name, mode) in rates and (base_name, mode) in rates:
                ratio = rates[(name, mode)] / rates[(base_name, mode)]
                rows.append(dict(check=f'ratio {mode}',
                                 model=f'{name}/{base_name}', status='ok',
                                 detail=f'{ratio:.2f}x the images/s'))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true',
                        help='CPU parts only, 64x64, one step, no compile')
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument('--runs', type=int, default=10)
    args = parser.parse_args(argv)
    # init_weights logs every parameter at INFO; the table is the output
    import logging

    from mmengine.logging import MMLogger
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    cuda = torch.cuda.is_available() and not args.quick
    rows: List[Dict] = []
    if not cuda:
        print('CUDA is not available: running the CPU parts only '
              '(the CUDA rows are skipped).')
    small = (64, 64) if args.quick else (128, 128)
    check_mmcv_ops(rows, cuda)
    if cuda:
        check_cpu_vs_cuda(rows, (320, 320))
    else:
        rows.append(dict(check='cpu==cuda fp32', model='all', status='skip',
                         detail='no CUDA'))
    device = 'cuda' if cuda else 'cpu'
    check_amp_train(rows, device, 1 if args.quick else args.steps, small)
    if args.quick:
        rows.append(dict(check='images/s', model='all', status='skip',
                         detail='--quick'))
    else:
        check_throughput(rows, device, args.runs if cuda else 2,
                         8 if cuda else 1, cuda, small)
        if not cuda:
            rows.append(dict(check='images/s compiled', model='all',
                             status='skip',
                             detail='CPU (compiling takes ~1 min a model)'))
    width = {k: max(len(k), *(len(str(r[k])) for r in rows))
             for k in ('check', 'model', 'status')}
    header = ' | '.join(k.ljust(width[k]) for k in width) + ' | detail'
    print(header)
    print('-' * len(header))
    for r in rows:
        print(' | '.join(str(r[k]).ljust(width[k]) for k in width) + ' | ' +
              r['detail'])
    failed = [r for r in rows if r['status'] == 'FAIL']
    print(f'{len(failed)} failed of {len(rows)} checks on '
          f'{torch.cuda.get_device_name() if cuda else "CPU"}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())

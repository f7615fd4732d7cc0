#!/usr/bin/env python
"""Check that every model variant exports with dynamic N, H and W.

For each variant, the export wrapper of ``pytorch2onnx.py`` is traced by
``torch.export`` (what the ONNX exporter translates) with dynamic batch and
input size; the traced graph then runs at another batch size and input
size and must give PyTorch's outputs. A data-dependent Python branch or a
size frozen into the graph fails the first step or the second.

Variants (the real configs, random weights, no pretrained weights fetched):

* SMCA-DETR single-scale: the four scale modes (``Fixed``, ``Single``,
  ``Indep``, ``Cov``), each with per-head and head-shared scales;
* SMCA-DETR multi-scale: the attention and the depth-wise convolution
  encoders, and mmdet's DETR;
* every TransFuse config (S, L, L*, the ablations and the dataset
  variants).

Example::

    python tools/deployment/check_export_matrix.py            # all
    python tools/deployment/check_export_matrix.py --only transfuse-l

Exits with status 1 when a variant fails (the table says which and why).
"""
import argparse
import glob
import os.path as osp
import sys
import time
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.config import Config

import mmplugin_transfuse  # noqa: F401  registers the models
from mmplugin_transfuse.deploy import (build_model, export_program,
                                       export_wrapper, size_divisor)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SMCA = 'configs/smca_detr/smca-detr_r50_8xb2-50e_coco.py'
SMCA_MS = 'configs/smca_detr/smca-detr-ms_r50_8xb2-50e_coco.py'
SMCA_MS_DWCONV = 'configs/smca_detr/smca-detr-ms-dwconv_r50_8xb2-50e_coco.py'
DETR = 'configs/smca_detr/detr_r50-focal-300q_8xb2-50e_coco.py'


def variants() -> List[Tuple[str, str, Dict]]:
    """``(name, config, cfg-options)`` of every variant checked."""
    rows = []
    for mode in ('Fixed', 'Single', 'Indep', 'Cov'):
        for shared in (False, True):
            rows.append((f'smca {mode} {"head-shared" if shared else "per-head"}',
                         SMCA, {
                             'model.decoder.layer_cfg.scale_mode': mode,
                             'model.decoder.layer_cfg.head_shared_prior':
                             shared
                         }))
    rows += [('smca-ms attention encoder', SMCA_MS, {}),
             ('smca-ms dwconv encoder', SMCA_MS_DWCONV, {}),
             ('detr', DETR, {})]
    for path in sorted(glob.glob(osp.join(ROOT, 'configs/transfuse/*.py'))):
        rows.append((osp.basename(path)[:-3], osp.relpath(path, ROOT), {}))
    return rows


def check(path: str, options: Dict) -> Tuple[bool, str]:
    """Trace one variant and run the trace at another N, H, W."""
    cfg = Config.fromfile(osp.join(ROOT, path))
    cfg.merge_from_dict(options)
    torch.manual_seed(0)
    # the constructors' random init (init_weights would fetch pretrained
    # weights)
    model = build_model(cfg, None)
    wrapper = export_wrapper(cfg, model)
    d = size_divisor(cfg, model)
    channels = len(cfg.model.data_preprocessor.get('mean') or [0] * 3)
    example = torch.randn(2, channels, 2 * d, 3 * d)
    program = export_program(wrapper, example, d)
    other = torch.randn(3, channels, 3 * d, 2 * d)
    with torch.no_grad():
        got, ref = program.module()(other), wrapper(other)
    got = got if isinstance(got, tuple) else (got, )
    ref = ref if isinstance(ref, tuple) else (ref, )
    worst = 0.
    for g, r in zip(got, ref):
        if g.shape != r.shape:
            return False, f'shape {tuple(g.shape)} != {tuple(r.shape)}'
        scale = r.double().abs().max().item() or 1.
        worst = max(worst, (g.double() - r.double()).abs().max().item() /
                    scale)
    return worst <= 1e-5, f'max relative difference {worst:.2g}'


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--only', help='check only variants whose name contains this')
    args = parser.parse_args(argv)
    rows = [v for v in variants() if not args.only or args.only in v[0]]
    if not rows:
        parser.error(f'--only {args.only!r} matches no variant')
    failed = 0
    print('| variant | config | dynamic N, H, W | seconds |')
    print('|---|---|---|---|')
    for name, path, options in rows:
        start = time.perf_counter()
        try:
            ok, detail = check(path, options)
        except Exception as e:  # report every variant, then fail
            ok, detail = False, f'{type(e).__name__}: {str(e)[:200]}'
        failed += not ok
        print(f'| {name} | {path} | {"ok" if ok else "FAILED"} ({detail}) '
              f'| {time.perf_counter() - start:.0f} |', flush=True)
    print(f'{len(rows) - failed}/{len(rows)} variants export')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())

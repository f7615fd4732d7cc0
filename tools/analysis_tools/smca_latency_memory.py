#!/usr/bin/env python
"""Inference latency ratio and training-step peak memory of SMCA models.

Latency: each config's model (random weights, eval) predicts one random
``1 x 3 x H x W`` image; the models run in turns, round after round, in one
process, so that a busy machine slows them alike, and the median of the
rounds is reported with its ratio to the first config (mmdet's DETR-R50 by
default). Memory: for each config a fresh subprocess runs one training step
(loss + backward) on ``--batch`` random images of the training size with one
box each and reports the peak resident set size (``ru_maxrss``) and its
growth over the built model's RSS; on a CUDA device it reports
``torch.cuda.max_memory_allocated`` instead.

Example::

    python tools/analysis_tools/smca_latency_memory.py --shapes 512 512 \
        800 1216 --rounds 3 --memory-shape 800 1216
"""
import argparse
import json
import os.path as osp
import resource
import statistics
import subprocess
import sys
import time
from typing import List

import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine import Config
from mmengine.config.utils import _get_package_and_cfg_path
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData
from mmengine.utils import get_installed_path

DEFAULT_CONFIGS = [
    'mmdet::detr/detr_r50_8xb2-150e_coco.py',
    'configs/smca_detr/smca-detr_r50_8xb2-50e_coco.py',
    'configs/smca_detr/smca-detr-ms_r50_8xb2-50e_coco.py',
    'configs/smca_detr/smca-detr-ms-dwconv_r50_8xb2-50e_coco.py',
]


def build_model(config: str, device: str) -> torch.nn.Module:
    """A config's model with random weights (``mmdet::`` paths allowed)."""
    import mmplugin_transfuse  # noqa: F401
    if config.startswith('mmdet::'):
        package, rel = _get_package_and_cfg_path(config)
        config = osp.join(get_installed_path(package), '.mim', 'configs', rel)
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    cfg.model.backbone.init_cfg = None
    return MODELS.build(cfg.model).to(device)


def samples(batch: int, height: int, width: int,
            device: str) -> List[DetDataSample]:
    out = []
    for _ in range(batch):
        s = DetDataSample(
            metainfo=dict(
                img_shape=(height, width),
                batch_input_shape=(height, width),
                pad_shape=(height, width),
                ori_shape=(height, width),
                scale_factor=(1., 1.)))
        s.gt_instances = InstanceData(
            bboxes=torch.tensor([[0.1 * width, 0.2 * height, 0.6 * width,
                                  0.7 * height]]),
            labels=torch.tensor([1])).to(device)
        out.append(s)
    return out


def latency(configs: List[str], shapes: List[int], rounds: int,
            device: str) -> None:
    models = [build_model(c, device).eval() for c in configs]
    for height, width in zip(shapes[::2], shapes[1::2]):
        inputs = torch.randn(1, 3, height, width, device=device)
        data = samples(1, height, width, device)
        times = [[] for _ in models]
        with torch.no_grad():
            for model in models:  # warm-up
                model.predict(inputs, data)
            for _ in range(rounds):
                for i, model in enumerate(models):
                    if device == 'cuda':
                        torch.cuda.synchronize()
                    start = time.perf_counter()
                    model.predict(inputs, data)
                    if device == 'cuda':
                        torch.cuda.synchronize()
                    times[i].append(time.perf_counter() - start)
        base = statistics.median(times[0])
        print(f'\nlatency {height}x{width}, {device}, '
              f'{torch.get_num_threads()} thread(s), median of {rounds}:')
        for config, ts in zip(configs, times):
            med = statistics.median(ts)
            print(f'  {config}: {med:.3f} s  ({med / base:.2f} x first)',
                  flush=True)


def memory_step(config: str, height: int, width: int, batch: int,
                device: str) -> dict:
    """One training step in this process; peak memory figures."""
    model = build_model(config, device).train()
    inputs = torch.randn(batch, 3, height, width, device=device)
    data = samples(batch, height, width, device)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if device == 'cuda':
        torch.cuda.reset_peak_memory_stats()
    losses = model.loss(inputs, data)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    out = dict(
        config=config,
        peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss /
        1024,
        model_rss_mib=base_rss)
    if device == 'cuda':
        out['cuda_peak_mib'] = torch.cuda.max_memory_allocated() / 2**20
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--configs', nargs='+', default=DEFAULT_CONFIGS)
    parser.add_argument(
        '--shapes',
        type=int,
        nargs='*',
        default=[512, 512, 800, 1216],
        help='H W pairs for the latency runs (none: skip)')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument(
        '--memory-shape',
        type=int,
        nargs=2,
        default=[800, 1216],
        metavar=('H', 'W'))
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--no-memory', action='store_true')
    parser.add_argument('--threads', type=int, default=0)
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument(
        '--_memory-child', dest='child', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if len(args.shapes) % 2:
        parser.error('--shapes takes H W pairs')
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.child:
        print(
            json.dumps(
                memory_step(args.child, *args.memory_shape, args.batch,
                            args.device)))
        return
    if args.shapes:
        latency(args.configs, args.shapes, args.rounds, args.device)
    if args.no_memory:
        return
    height, width = args.memory_shape
    print(f'\npeak memory of one training step, batch {args.batch}, '
          f'{height}x{width}, {args.device}:')
    for config in args.configs:
        cmd = [
            sys.executable, __file__, '--_memory-child', config,
            '--memory-shape',
            str(height),
            str(width), '--batch',
            str(args.batch), '--device', args.device, '--threads',
            str(args.threads)
        ]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode:
            print(f'  {config}: failed\n{res.stderr[-2000:]}')
            continue
        info = json.loads(res.stdout.strip().splitlines()[-1])
        line = (f'  {config}: peak RSS {info["peak_rss_mib"]:.0f} MiB '
                f'(+{info["peak_rss_mib"] - info["model_rss_mib"]:.0f} MiB '
                'over the built model)')
        if 'cuda_peak_mib' in info:
            line += f', CUDA peak {info["cuda_peak_mib"]:.0f} MiB'
        print(line, flush=True)


if __name__ == '__main__':
    main()

"""How many graphs ``--compile`` builds over batches of changing sizes.

``tools/train.py --compile`` compiles the model's ``forward``. DETR-style
recipes resize every image (multi-scale training, keep-ratio test resize),
so the padded batch shape changes from one iteration to the next; every
shape torch.compile has not seen either runs a graph it already has
(dynamic shapes) or compiles a new one, and after
``torch._dynamo.config.recompile_limit`` new graphs of one function it
runs that function eagerly for good. This tool trains (``mode='loss'``,
the data pre-processor, backward and optimizer step included) or predicts
on random batches of random sizes and counts the graphs dynamo hands to
the backend after each iteration, per ``pad_size_divisor`` and
``dynamic`` setting. The backend runs each graph eagerly, so nothing is
code-generated: the counts are inductor's (the graphs and guards come
from dynamo), in seconds instead of minutes per graph.

    python tools/analysis_tools/compile_graphs.py \\
        configs/smca_detr/smca-detr_r18_1xb8-200_synthetic-shapes-128x128.py \\
        --min-size 96 --max-size 160 --pad-size-divisor 1 128 --iters 8

``dynamic``: ``auto`` is torch.compile's default (``dynamic=None``: the
first shape is compiled static, a second shape recompiles with the
changed sizes symbolic), ``static`` is ``dynamic=False`` (a graph per
shape), ``symbolic`` is ``dynamic=True`` (symbolic sizes from the start).
"""
import argparse
import logging
import random
import time
from typing import Any, Dict, List, Optional, Sequence

import torch
import torch._dynamo
from mmengine.optim import build_optim_wrapper

from mmplugin_transfuse.utils.benchmark import (build_model, load_config,
                                                parse_cfg_options,
                                                print_table, raw_batch)

DYNAMIC = {'auto': None, 'static': False, 'symbolic': True}


class _LimitHits(logging.Handler):
    """Collects dynamo's "hit config.recompile_limit" warnings: each names
    a function that runs eagerly from then on."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.functions: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if 'hit config.' in message and 'function:' in message:
            self.functions.append(
                message.split('function:')[1].split('\n')[0].strip())


def count_graphs(config: str,
                 iters: int = 8,
                 batch: int = 2,
                 min_size: int = 96,
                 max_size: int = 160,
                 pad_size_divisor: Optional[int] = None,
                 dynamic: str = 'auto',
                 mode: str = 'loss',
                 cfg_options: Optional[Dict[str, Any]] = None,
                 seed: int = 0) -> Dict[str, Any]:
    """Graphs compiled after each of ``iters`` iterations of ``config``'s
    model (random weights) on batches of ``batch`` images with sides drawn
    uniformly from ``[min_size, max_size]``.

    Returns ``graphs`` (cumulative count per iteration), ``shapes`` (the
    padded batch shape of each iteration), ``limit_hits`` (functions that
    reached the recompile limit) and ``seconds``.
    """
    cfg = load_config(config, cfg_options)
    torch.manual_seed(seed)
    model = build_model(cfg).train(mode == 'loss')
    if pad_size_divisor is not None:
        model.data_preprocessor.pad_size_divisor = pad_size_divisor
    optim = build_optim_wrapper(
        model, cfg.get('optim_wrapper') or dict(
            optimizer=dict(type='AdamW', lr=1e-4)))
    graphs = 0

    def backend(gm: torch.fx.GraphModule, example_inputs: Sequence[Any]):
        nonlocal graphs
        graphs += 1
        return gm.forward

    torch._dynamo.reset()
    model.forward = torch.compile(
        model.forward, backend=backend, dynamic=DYNAMIC[dynamic])
    hits = _LimitHits()
    log = logging.getLogger('torch._dynamo.convert_frame')
    log.addHandler(hits)
    rng = random.Random(seed)
    counts, shapes = [], []
    start = time.perf_counter()
    try:
        for i in range(iters):
            sizes = [(rng.randint(min_size, max_size),
                      rng.randint(min_size, max_size)) for _ in range(batch)]
            data = raw_batch(cfg, sizes, seed=i)
            if mode == 'loss':
                model.train_step(data, optim)
            else:
                with torch.no_grad():
                    model(**model.data_preprocessor(data, False), mode=mode)
            # the batch shape the compiled forward saw, as the
            # pre-processor pads it
            with torch.no_grad():
                h, w = model.data_preprocessor(
                    data, mode == 'loss')['inputs'].shape[-2:]
            shapes.append(f'{h}x{w}')
            counts.append(graphs)
    finally:
        log.removeHandler(hits)
        torch._dynamo.reset()
    return dict(graphs=counts, shapes=shapes, limit_hits=hits.functions,
                seconds=time.perf_counter() - start)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--iters', type=int, default=8)
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--min-size', type=int, default=96,
                        help='smallest image side drawn')
    parser.add_argument('--max-size', type=int, default=160,
                        help='largest image side drawn')
    parser.add_argument(
        '--pad-size-divisor', type=int, nargs='+', default=[None],
        help="values of model.data_preprocessor.pad_size_divisor to try "
        "(default: the config's)")
    parser.add_argument('--dynamic', nargs='+', choices=sorted(DYNAMIC),
                        default=['auto'],
                        help="torch.compile's dynamic= (auto: None, the "
                        'default; static: False; symbolic: True)')
    parser.add_argument('--mode', choices=['loss', 'predict', 'tensor'],
                        default='loss',
                        help='loss: training steps; predict / tensor: '
                        'eval forwards')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        metavar='KEY=VALUE',
                        help='config overrides, values as Python literals')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    if args.iters < 1 or args.batch < 1:
        parser.error('--iters and --batch must be >= 1')
    if not 16 <= args.min_size <= args.max_size:
        parser.error('expected 16 <= --min-size <= --max-size, got '
                     f'{args.min_size} and {args.max_size}')
    return args


def main(argv=None) -> List[Dict[str, Any]]:
    args = parse_args(argv)
    options = parse_cfg_options(args.cfg_options)
    rows = []
    for divisor in args.pad_size_divisor:
        for dynamic in args.dynamic:
            result = count_graphs(args.config, args.iters, args.batch,
                                  args.min_size, args.max_size, divisor,
                                  dynamic, args.mode, options, args.seed)
            graphs = result['graphs']
            half = len(graphs) // 2
            rows.append(dict(
                pad_size_divisor='config' if divisor is None else divisor,
                dynamic=dynamic,
                distinct_shapes=len(set(result['shapes'])),
                graphs_per_iteration=' '.join(map(str, graphs)),
                new_in_second_half=graphs[-1] - graphs[half - 1]
                if half else graphs[-1],
                functions_at_limit=len(set(result['limit_hits'])),
                seconds=result['seconds']))
    print_table(rows, list(rows[0]))
    return rows


if __name__ == '__main__':
    main()

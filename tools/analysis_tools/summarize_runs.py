#!/usr/bin/env python
"""Print one table of the final metrics of mmengine test/val runs.

Reads the last line of the newest ``<work_dir>/<timestamp>/<timestamp>.json``
that mmengine writes (test runs log their metrics there; training runs also
write ``vis_data/scalars.json``, used when no such file exists), i.e. the
metrics the loop logged last, and prints them side by side.

With ``--first-val TRAIN_DIR ...`` (one training work dir per test run, same
order) the table also shows the first validation those trainings logged
(``<timestamp>/vis_data/scalars.json``), the reference point that shows how
far the model got since.

Example::

    python tools/analysis_tools/summarize_runs.py work_dirs/demo/seg/test
    python tools/analysis_tools/summarize_runs.py \\
        work_dirs/demo/seg/test work_dirs/demo/det/test \\
        --first-val work_dirs/demo/seg work_dirs/demo/det

With ``--pair MODEL MODEL_DIR BASELINE BASELINE_DIR METRICS`` (repeatable;
each dir a training work dir whose final test ran into ``<dir>/test``,
``METRICS`` comma-separated keys of the test log) it prints one comparison
table instead: per pair and metric both final test values, their difference
and which is ahead, and the iterations each training ran (the budget the
pair shares). ``--plot PNG`` also draws the validation curves of each pair's
first metric, one panel per pair. ``make demo`` ends with this::

    python tools/analysis_tools/summarize_runs.py \\
        --pair TransFuse-S work_dirs/demo/transfuse \\
               UNet work_dirs/demo/unet mDice,per_image/mDice \\
        --pair SMCA-DETR work_dirs/demo/smca \\
               DETR work_dirs/demo/detr coco/bbox_mAP,coco/bbox_mAP_50 \\
        --plot work_dirs/demo/curves.png
"""
import argparse
import glob
import json
import os
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Tuple

NOT_METRICS = ('step', 'data_time', 'time', 'iter', 'epoch')


def _read_lines(path: str) -> List[dict]:
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def _newest_log(work_dir: str, what: str,
                patterns: Tuple[str, ...]) -> Tuple[str, List[dict]]:
    """Path and records of the newest run's log in ``work_dir``: the last
    file (timestamps sort) of the first of ``patterns`` (globs below
    ``work_dir``) that matches any; ``what`` names the log in the error."""
    for pattern in patterns:
        files = sorted(glob.glob(osp.join(work_dir, pattern)))
        if files:
            return files[-1], _read_lines(files[-1])
    raise FileNotFoundError(f'no {what} under {work_dir}')


def last_metrics(work_dir: str) -> Dict[str, float]:
    """Metrics of the newest run in ``work_dir``."""
    path, lines = _newest_log(
        work_dir, 'mmengine metric log (<timestamp>/<timestamp>.json or '
        '<timestamp>/vis_data/scalars.json)',
        (osp.join('*', '*.json'), osp.join('*', 'vis_data', 'scalars.json')))
    if not lines:
        raise ValueError(f'{path} holds no metrics')
    return {
        k: v
        for k, v in lines[-1].items()
        if isinstance(v, (int, float)) and k not in NOT_METRICS
    }


def first_val_metrics(train_dir: str,
                      keys: List[str]) -> Tuple[str, Dict[str, float]]:
    """The first validation record of the newest training run in
    ``train_dir`` holding any of ``keys``, and where it was taken
    (``'iter N'`` or ``'epoch N'``: mmengine logs validations with the
    iteration, or for epoch-based loops the epoch, as ``step``)."""
    path, lines = _newest_log(
        train_dir, 'training log <timestamp>/vis_data/scalars.json',
        (osp.join('*', 'vis_data', 'scalars.json'), ))
    by_epoch = any('epoch' in line for line in lines)
    for line in lines:
        found = {k: line[k] for k in keys if k in line}
        if found:
            unit = 'epoch' if by_epoch else 'iter'
            return f'{unit} {line.get("step", "?")}', found
    raise ValueError(f'{path} holds no validation with any of the '
                     f'metrics {keys} (did the training validate?)')


def format_table(rows: List[List[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [' | '.join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines.insert(1, '-+-'.join('-' * w for w in widths))
    return '\n'.join(lines)


def summary_rows(work_dirs: List[str],
                 first_val: Optional[List[str]] = None) -> List[List[str]]:
    """Header plus one row per (run, metric)."""
    if first_val is not None and len(first_val) != len(work_dirs):
        raise ValueError(
            f'--first-val takes one training work dir per run: got '
            f'{len(first_val)} for {len(work_dirs)} runs')
    if first_val is None:
        rows = [['run', 'metric', 'value']]
    else:
        rows = [['run', 'metric', 'first val', 'at', 'final test']]
    for i, wd in enumerate(work_dirs):
        final = last_metrics(wd)
        if first_val is None:
            rows += [[wd, k, f'{v:.4f}'] for k, v in final.items()]
            continue
        at, early = first_val_metrics(first_val[i], list(final))
        for k, v in final.items():
            e = f'{early[k]:.4f}' if k in early else '-'
            rows.append([wd, k, e, at, f'{v:.4f}'])
    return rows


class Pair(NamedTuple):
    """A model and its baseline: names, training work dirs (their final
    tests in ``<dir>/test``) and the metric keys to compare."""
    model: str
    model_dir: str
    baseline: str
    baseline_dir: str
    metrics: List[str]


def parse_pair(fields: List[str]) -> Pair:
    """``[MODEL, MODEL_DIR, BASELINE, BASELINE_DIR, 'key1,key2']``."""
    if len(fields) != 5:
        raise ValueError('--pair takes MODEL MODEL_DIR BASELINE BASELINE_DIR '
                         f'METRICS, got {fields}')
    metrics = [k for k in fields[4].split(',') if k]
    if not metrics:
        raise ValueError(f'--pair {fields[0]} ... : METRICS is empty (comma-'
                         'separated keys of the test log, e.g. mDice)')
    return Pair(fields[0], fields[1], fields[2], fields[3], metrics)


def _test_metric(train_dir: str, key: str) -> float:
    found = last_metrics(osp.join(train_dir, 'test'))
    if key not in found:
        raise KeyError(f'{osp.join(train_dir, "test")}: no metric {key!r} in '
                       f'its test log (it has {sorted(found)})')
    return found[key]


def trained_iterations(train_dir: str) -> int:
    """The last training iteration the newest run in ``train_dir`` logged
    (its ``iter`` field; mmengine counts from 1)."""
    path, lines = _newest_log(
        train_dir, 'training log <timestamp>/vis_data/scalars.json',
        (osp.join('*', 'vis_data', 'scalars.json'), ))
    iters = [line['iter'] for line in lines if 'iter' in line]
    if not iters:
        raise ValueError(f'{path} logs no training iteration')
    return int(max(iters))


def val_curve(train_dir: str, key: str) -> List[Tuple[int, float]]:
    """``[(step, value)]`` of every validation of ``key`` the newest run in
    ``train_dir`` logged (step: the iteration, or the epoch for
    epoch-based loops)."""
    path, lines = _newest_log(
        train_dir, 'training log <timestamp>/vis_data/scalars.json',
        (osp.join('*', 'vis_data', 'scalars.json'), ))
    curve = [(int(line['step']), float(line[key])) for line in lines
             if key in line and 'step' in line]
    if not curve:
        raise ValueError(f'{path} holds no validation of {key!r}')
    return curve


def compare_rows(pairs: List[Pair]) -> List[List[str]]:
    """Header plus one row per (pair, metric): final test values of model
    and baseline, model minus baseline, the higher one, and the iterations
    each trained (``'100'``, or ``'100 / 50'`` when they differ)."""
    rows = [[
        'model', 'baseline', 'metric (final test)', 'model value',
        'baseline value', 'difference', 'ahead', 'iterations'
    ]]
    for pair in pairs:
        its = (trained_iterations(pair.model_dir),
               trained_iterations(pair.baseline_dir))
        budget = str(its[0]) if its[0] == its[1] else f'{its[0]} / {its[1]}'
        for key in pair.metrics:
            a = _test_metric(pair.model_dir, key)
            b = _test_metric(pair.baseline_dir, key)
            # compare what the table shows, so 'tie' matches equal figures
            fa, fb = f'{a:.4f}', f'{b:.4f}'
            ahead = ('tie'
                     if fa == fb else pair.model if a > b else pair.baseline)
            rows.append([
                pair.model, pair.baseline, key, fa, fb, f'{a - b:+.4f}', ahead,
                budget
            ])
    return rows


def plot_pairs(pairs: List[Pair], path: str) -> None:
    """One panel per pair: the validation curves of its first metric for
    the model and the baseline, written to ``path`` (PNG)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1,
                             len(pairs),
                             figsize=(5 * len(pairs), 3.6),
                             dpi=100,
                             squeeze=False)
    for ax, pair in zip(axes[0], pairs):
        key = pair.metrics[0]
        for name, train_dir in ((pair.model, pair.model_dir),
                                (pair.baseline, pair.baseline_dir)):
            curve = val_curve(train_dir, key)
            ax.plot([s for s, _ in curve], [v for _, v in curve],
                    marker='o',
                    markersize=4,
                    label=name)
        ax.set_title(f'{pair.model} vs {pair.baseline}', fontsize=10)
        ax.set_xlabel('training iteration')
        ax.set_ylabel(f'{key} (validation)')
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dirs', nargs='*')
    parser.add_argument(
        '--first-val',
        nargs='+',
        metavar='TRAIN_DIR',
        help='training work dirs (one per run): also show their first '
        'validation')
    parser.add_argument(
        '--pair',
        nargs=5,
        action='append',
        metavar=('MODEL', 'MODEL_DIR', 'BASELINE', 'BASELINE_DIR', 'METRICS'),
        help='compare the final tests of a model and its baseline '
        '(training work dirs, tests in <dir>/test; METRICS comma-separated)')
    parser.add_argument('--plot',
                        metavar='PNG',
                        help='with --pair: write the validation curves here')
    args = parser.parse_args(argv)
    if args.pair:
        if args.work_dirs or args.first_val:
            parser.error('--pair prints its own table: give no WORK_DIRs '
                         'or --first-val with it')
        pairs = [parse_pair(p) for p in args.pair]
        print(format_table(compare_rows(pairs)))
        if args.plot:
            plot_pairs(pairs, args.plot)
            print(f'validation curves: {args.plot}')
        return
    if args.plot:
        parser.error('--plot needs --pair')
    if not args.work_dirs:
        parser.error('give WORK_DIRs or --pair')
    print(format_table(summary_rows(args.work_dirs, args.first_val)))


if __name__ == '__main__':
    main()

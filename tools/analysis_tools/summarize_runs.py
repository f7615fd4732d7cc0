#!/usr/bin/env python
"""Print one table of the final metrics of mmengine test/val runs.

Reads the last line of the newest ``<work_dir>/<timestamp>/<timestamp>.json``
that mmengine writes (test runs log their metrics there; training runs also
write ``vis_data/scalars.json``, used when no such file exists), i.e. the
metrics the loop logged last, and prints them side by side.

With ``--first-val TRAIN_DIR ...`` (one training work dir per test run, same
order) the table also shows the first validation those trainings logged
(``<timestamp>/vis_data/scalars.json``), the reference point that shows how
far the model got since: ``make demo`` prints this table.

Example::

    python tools/analysis_tools/summarize_runs.py work_dirs/demo/seg/test
    python tools/analysis_tools/summarize_runs.py \\
        work_dirs/demo/seg/test work_dirs/demo/det/test \\
        --first-val work_dirs/demo/seg work_dirs/demo/det
"""
import argparse
import glob
import json
import os.path as osp
from typing import Dict, List, Optional, Tuple

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dirs', nargs='+')
    parser.add_argument(
        '--first-val',
        nargs='+',
        metavar='TRAIN_DIR',
        help='training work dirs (one per run): also show their first '
        'validation')
    args = parser.parse_args()
    print(format_table(summary_rows(args.work_dirs, args.first_val)))


if __name__ == '__main__':
    main()

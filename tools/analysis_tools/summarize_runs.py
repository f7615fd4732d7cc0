#!/usr/bin/env python
"""Print one table of the final metrics of mmengine test/val runs.

Reads the last line of the newest ``<work_dir>/<timestamp>/<timestamp>.json``
that mmengine writes (test runs log their metrics there; training runs also
write ``vis_data/scalars.json``, used when no such file exists), i.e. the
metrics the loop logged last, and prints them side by side.

Example::

    python tools/analysis_tools/summarize_runs.py work_dirs/demo/seg/test
"""
import argparse
import glob
import json
import os.path as osp
from typing import Dict, List


def last_metrics(work_dir: str) -> Dict[str, float]:
    """Metrics of the newest run in ``work_dir``."""
    files = sorted(glob.glob(osp.join(work_dir, '*', '*.json')))
    if not files:
        files = sorted(
            glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not files:
        raise FileNotFoundError(
            f'no mmengine metric log (<timestamp>/<timestamp>.json or '
            f'<timestamp>/vis_data/scalars.json) under {work_dir}')
    with open(files[-1]) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    if not lines:
        raise ValueError(f'{files[-1]} holds no metrics')
    return {
        k: v
        for k, v in lines[-1].items()
        if isinstance(v, (int, float)) and k not in ('step', 'data_time',
                                                      'time', 'iter', 'epoch')
    }


def format_table(rows: List[List[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [' | '.join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines.insert(1, '-+-'.join('-' * w for w in widths))
    return '\n'.join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dirs', nargs='+')
    args = parser.parse_args()
    rows = [['run', 'metric', 'value']]
    for wd in args.work_dirs:
        for k, v in last_metrics(wd).items():
            rows.append([wd, k, f'{v:.4f}'])
    print(format_table(rows))


if __name__ == '__main__':
    main()

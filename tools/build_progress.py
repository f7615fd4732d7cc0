"""Run a long build, keep its whole output in a log file, print progress a person can read.

``tools/setup_env.sh`` runs mmcv's source build through this::

    python tools/build_progress.py --log LOG -- python -m pip wheel -v ... .

pip alone shows only ``Building wheel for mmcv (setup.py): still running...`` for the
whole build. torch's ``BuildExtension`` compiles through ninja, which prints
``[N/M] <command>`` each time a compile finishes (``NINJA_STATUS`` is set to that
format here, in case the user's differs). From those lines this prints

    [mmcv build] compiled 2 of 4 files, 3:05 elapsed, about 3:05 left

plus a line every ``--heartbeat`` seconds while nothing finishes, and the phase
changes (preparing, compiling, linking). The exit status is the command's; when it
fails, the last error lines and the log's path are printed.
"""
from __future__ import annotations

import argparse
import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Optional, TextIO

NINJA_STATUS = '[%f/%t] '
_STEP = re.compile(r'^\[(\d+)/(\d+)\] ')
_ERROR = re.compile(r'\berror\b|Error|FAILED|Traceback', re.I)


def fmt_time(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    return f'{h}:{rem // 60:02d}:{rem % 60:02d}' if h else f'{rem // 60}:{rem % 60:02d}'


class Progress:
    """Turns the build's output lines into progress messages (pure: testable)."""

    def __init__(self, name: str, start: float):
        self.name = name
        self.start = start
        self.compile_start: Optional[float] = None
        self.done = 0
        self.total: Optional[int] = None
        self.phase = 'preparing'
        self.done_at: Optional[float] = None  # when the last file finished

    def message(self, now: float) -> str:
        elapsed = now - self.start
        if self.phase == 'compiling' and self.total:
            eta = 'left: estimated after the first file'
            if self.done and self.compile_start is not None and self.done_at is not None:
                # rate up to the last finished file, counted down between files
                per_file = (self.done_at - self.compile_start) / self.done
                left = per_file * (self.total - self.done) - (now - self.done_at)
                eta = (f'about {fmt_time(left)} left' if left > 0 else
                       'finishing (taking longer than estimated)')
            return (f'[{self.name}] compiled {self.done} of {self.total} files, '
                    f'{fmt_time(elapsed)} elapsed, {eta}')
        if self.phase == 'compiling':  # ninja gives the file count with the first one
            return f'[{self.name}] compiling, no file finished yet, {fmt_time(elapsed)} elapsed'
        return f'[{self.name}] {self.phase}, {fmt_time(elapsed)} elapsed'

    def feed(self, line: str, now: float) -> Optional[str]:
        """Update from one output line; return a message when something changed."""
        line = line.strip()  # pip -v indents the build's output
        m = _STEP.match(line)
        if m:
            self.done, self.total, self.done_at = int(m.group(1)), int(m.group(2)), now
            if self.phase != 'compiling':
                self.phase = 'compiling'
                self.compile_start = self.compile_start or self.start
            return self.message(now)
        if self.phase == 'preparing' and re.match(r"building '?\S+'? extension", line):
            # ninja prints nothing until the first file is done: say how many are coming.
            self.phase, self.compile_start = 'compiling', now
            return self.message(now)
        if self.phase == 'compiling' and self.total and self.done == self.total and \
                re.search(r'\s-shared(\s|$)', line):
            self.phase = 'linking'
            return self.message(now)
        if self.phase != 'done' and (line.startswith('Created wheel for')
                                     or line.startswith('Successfully built')):
            self.phase = 'done'
            return self.message(now)
        return None


def _reader(stream: TextIO, q: 'queue.Queue[Optional[str]]') -> None:
    for line in stream:
        q.put(line)
    q.put(None)


def run(cmd: list[str], log_path: Path, name: str = 'build', heartbeat: float = 60.0,
        out: TextIO = sys.stderr) -> int:
    """Run ``cmd`` with its output teed to ``log_path``; print progress to ``out``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, NINJA_STATUS=NINJA_STATUS, PYTHONUNBUFFERED='1')
    start = time.monotonic()
    progress = Progress(name, start)
    errors: list[str] = []
    with open(log_path, 'w', encoding='utf-8', errors='replace') as log:
        log.write(f'$ {" ".join(cmd)}\n')
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env=env, text=True, errors='replace', bufsize=1)
        q: 'queue.Queue[Optional[str]]' = queue.Queue()
        threading.Thread(target=_reader, args=(proc.stdout, q), daemon=True).start()
        print(f'[{name}] full log: {log_path}', file=out, flush=True)
        last_print = start
        while True:
            try:
                line = q.get(timeout=max(0.1, heartbeat - (time.monotonic() - last_print)))
            except queue.Empty:
                line = ''
            now = time.monotonic()
            if line is None:
                break
            msg = None
            if line:
                log.write(line)
                log.flush()
                if _ERROR.search(line) and not line.lstrip().startswith('['):
                    errors = (errors + [line.rstrip()])[-15:]
                msg = progress.feed(line, now)
            if msg is None and now - last_print >= heartbeat:
                msg = progress.message(now)
            if msg:
                print(msg, file=out, flush=True)
                last_print = now
        rc = proc.wait()
    if rc != 0:
        print(f'[{name}] FAILED (exit {rc}) after {fmt_time(time.monotonic() - start)}; '
              'last error lines:', file=out)
        for line in errors or ['(none recognised)']:
            print(f'    {line}', file=out)
        print(f'[{name}] the full build log is {log_path}', file=out, flush=True)
    else:
        print(f'[{name}] finished in {fmt_time(time.monotonic() - start)} '
              f'(log: {log_path})', file=out, flush=True)
    return rc


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--log', type=Path, required=True, help='file for the full output')
    ap.add_argument('--name', default='build', help='prefix of the progress lines')
    ap.add_argument('--heartbeat', type=float, default=60.0,
                    help='seconds between progress lines while nothing changes')
    ap.add_argument('cmd', nargs=argparse.REMAINDER, help='-- command and its arguments')
    args = ap.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd[:1] == ['--'] else args.cmd
    if not cmd:
        ap.error('no command given (put it after --)')
    return run(cmd, args.log, args.name, args.heartbeat)


if __name__ == '__main__':
    sys.exit(main())

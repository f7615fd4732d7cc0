"""Stop training cleanly on SIGTERM / SIGUSR1, with a checkpoint to resume.

A cluster ends a job with a signal: Slurm sends SIGTERM on ``scancel``, on
preemption and at the time limit (then SIGKILL after ``KillWait``, 30 s by
default), or the signal chosen with ``sbatch --signal=USR1@120`` some time
before the limit. Python's default for both signals is to die on the spot,
so everything since the last periodic checkpoint is lost.
"""
import logging
import os
import os.path as osp
import signal
import subprocess
import threading
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.dist import all_reduce, get_world_size, is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS
from mmengine.runner import EpochBasedTrainLoop

from .atomic_checkpoint_hook import save_checkpoint_atomically

#: sysexits.h EX_TEMPFAIL, "temporary failure, the user is invited to
#: retry": the run stopped on request with a checkpoint; ``--resume``
#: continues it. Distinct from 0 (finished), 1 (an error) and 128+N (killed
#: by signal N before anything was saved).
EXIT_PREEMPTED = 75
#: runtime-info key of the message hub (saved in the checkpoint) telling a
#: resumed epoch-based run how many batches of its epoch were trained.
RESUME_INFO_KEY = 'preempted_in_epoch'


class TrainingPreempted(SystemExit):
    """Raised by :class:`PreemptionCheckpointHook` after its checkpoint is
    written; the interpreter exits with ``code``."""


class _SkipFirstBatches:
    """The batch sampler of a dataloader without its first ``skip`` batches.

    The batches are the same as the wrapped sampler's (same epoch seed, same
    aspect-ratio grouping), so the rest of the epoch sees the data an
    uninterrupted run would; skipped batches are never loaded.
    """

    def __init__(self, batch_sampler, skip: int):
        self.batch_sampler = batch_sampler
        self.skip = skip

    def __iter__(self):
        for i, batch in enumerate(self.batch_sampler):
            if i >= self.skip:
                yield batch

    def __len__(self) -> int:
        return max(len(self.batch_sampler) - self.skip, 0)

    def __getattr__(self, name):  # sampler, batch_size, set_epoch ...
        return getattr(self.__dict__['batch_sampler'], name)


@HOOKS.register_module()
class PreemptionCheckpointHook(Hook):
    """On SIGTERM/SIGUSR1: finish the iteration, checkpoint, exit 75.

    The signal handlers (installed in ``before_train``, main thread only,
    the previous ones restored in ``after_train``) only record the signal.
    After each training iteration (after every other hook: the learning
    rate scheduler has stepped, a periodic checkpoint of this iteration is
    written) the hook

    1. agrees on stopping across ranks: in a distributed run a stop flag is
       all-reduced (max), so every rank stops after the same iteration even
       when only one of them got the signal (every ``sync_interval``
       iterations; 1 by default: one 1-element all-reduce per iteration);
    2. writes ``iter_<N>.pth`` (N = iterations done) atomically with the
       optimizer and scheduler states, where the checkpoint hook writes
       (:func:`save_checkpoint_atomically`, so ``last_checkpoint`` names it
       only once it is complete); further signals meanwhile are recorded
       and ignored, and a SIGKILL leaves the previous checkpoint in place;
    3. logs the iteration, epoch and batch and the checkpoint's path;
    4. optionally (``requeue=True``, rank 0, ``SLURM_JOB_ID`` set) runs
       ``scontrol requeue $SLURM_JOB_ID``;
    5. ends the process group and raises :class:`TrainingPreempted`: the
       process exits with ``exit_code`` (75, ``EX_TEMPFAIL``). One process:
       the previous signal handlers are back first; distributed: the
       handled signals are ignored (``SIG_IGN``) from then on, so the
       SIGTERM torchrun sends to the other ranks once one rank has exited
       does not turn their exit status 75 into a kill (-15). Ignored, not
       recorded: the interpreter puts Python-level handlers back to the
       default while it tears its modules down, and a SIGTERM then would
       still kill the process; ``SIG_IGN`` lasts until the exit.

    ``--resume`` then continues at iteration N with the same learning
    rate, optimizer state and data position. Iteration-based loops: mmengine
    advances the dataloader by N batches. Epoch-based loops resume at epoch
    boundaries in mmengine (a mid-epoch checkpoint would replay the epoch
    from its first batch); the checkpoint therefore records how many
    batches of the epoch were trained, and on resume this hook skips those
    batches of that epoch (from the batch sampler, without loading them).
    In the resumed epoch the log's batch counter counts the remaining
    batches (``[1/len-k]``); ``runner.iter`` and the schedulers are exact.

    Under ``torchrun`` (``tools/dist_train.sh``), SIGTERM to the launcher is
    forwarded to the workers (and SIGKILL follows after torchrun's 30 s);
    ``tools/dist_launch.sh`` also has torchrun forward SIGUSR1.

    Args:
        signals (Sequence[str]): Signal names to handle.
        exit_code (int): Exit status after the checkpoint.
        requeue (bool): Requeue the Slurm job after the checkpoint.
        sync_interval (int): Iterations between the distributed stop-flag
            checks (a stop can come up to ``sync_interval - 1`` iterations
            later than the signal).

    Config (already in this package's runtime bases)::

        custom_hooks = [dict(type='PreemptionCheckpointHook')]
    """

    priority = 'LOWEST'

    def __init__(self,
                 signals: Sequence[str] = ('SIGTERM', 'SIGUSR1'),
                 exit_code: int = EXIT_PREEMPTED,
                 requeue: bool = False,
                 sync_interval: int = 1):
        if sync_interval < 1:
            raise ValueError(
                f'sync_interval must be >= 1, got {sync_interval}')
        self.signals = [self._signal(name) for name in signals]
        self.exit_code = exit_code
        self.requeue = requeue
        self.sync_interval = sync_interval
        self.received: List[int] = []
        self._previous: Dict[int, object] = {}
        self._skip_restore = None

    @staticmethod
    def _signal(name: str) -> int:
        sig = getattr(signal, str(name).upper(), None)
        if not isinstance(sig, signal.Signals):
            raise ValueError(f'PreemptionCheckpointHook: unknown signal '
                             f'{name!r} (expected e.g. "SIGTERM")')
        return sig

    def _on_signal(self, signum: int, frame) -> None:
        # a handler only records: the save happens between iterations
        self.received.append(signum)

    def before_train(self, runner) -> None:
        if threading.current_thread() is not threading.main_thread():
            print_log(
                'PreemptionCheckpointHook: training runs outside the main '
                'thread, signals cannot be handled.',
                logger='current',
                level=logging.WARNING)
            return
        for sig in self.signals:
            self._previous[sig] = signal.signal(sig, self._on_signal)

    def after_train(self, runner) -> None:
        self._restore_handlers()

    def _restore_handlers(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    # -- mid-epoch resume -------------------------------------------------
    def before_train_epoch(self, runner) -> None:
        info = runner.message_hub.runtime_info.pop(RESUME_INFO_KEY, None)
        if not info or info['epoch'] != runner.epoch:
            return
        loader = runner.train_loop.dataloader
        # without auto-collation (batch_size=None) the DataLoader iterates
        # its sampler directly
        attr = 'batch_sampler' if loader.batch_sampler is not None \
            else 'sampler'
        original = getattr(loader, attr)
        skip = int(info['batches'])
        # DataLoader refuses to set its sampler attributes once built
        object.__setattr__(loader, attr, _SkipFirstBatches(original, skip))
        self._skip_restore = (loader, attr, original, skip)
        print_log(
            f'PreemptionCheckpointHook: resuming epoch {runner.epoch + 1} at '
            f'batch {skip + 1}/{len(original)} (skipping the {skip} batches '
            'trained before the stop)',
            logger='current')

    def after_train_epoch(self, runner) -> None:
        if self._skip_restore is not None:
            loader, attr, original, _ = self._skip_restore
            object.__setattr__(loader, attr, original)
            self._skip_restore = None

    # -- the stop ---------------------------------------------------------
    def _should_stop(self, runner) -> bool:
        stop = bool(self.received)
        if get_world_size() > 1:
            if (runner.iter + 1) % self.sync_interval:
                return False  # every rank skips this check alike
            flag = torch.tensor([int(stop)])
            all_reduce(flag, op='max')
            stop = bool(flag.item())
        return stop

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        if not self._should_stop(runner):
            return
        done = runner.iter + 1
        where = f'iteration {done}'
        if isinstance(runner.train_loop, EpochBasedTrainLoop):
            skipped = self._skip_restore[3] if self._skip_restore else 0
            batches = skipped + batch_idx + 1
            runner.message_hub.update_info(
                RESUME_INFO_KEY, dict(epoch=runner.epoch, batches=batches))
            where += (f' (epoch {runner.epoch + 1}, batch {batches}/'
                      f'{len(runner.train_loop.dataloader) + skipped})')
        ckpt_hook = next(
            (h for h in runner.hooks if isinstance(h, CheckpointHook)), None)
        out_dir = runner.work_dir
        if ckpt_hook is not None and isinstance(
                getattr(ckpt_hook, 'file_backend', None), LocalBackend):
            out_dir = ckpt_hook.out_dir
        why = (signal.Signals(self.received[0]).name
               if self.received else 'a signal to another rank')
        print_log(
            f'PreemptionCheckpointHook: {why} received; stopping after '
            f'{where}, writing a checkpoint.',
            logger='current',
            level=logging.WARNING)
        path = save_checkpoint_atomically(
            runner, out_dir, f'iter_{done}.pth', by_epoch=False)
        runner.message_hub.runtime_info.pop(RESUME_INFO_KEY, None)
        later = len(self.received) - 1
        print_log(
            f'PreemptionCheckpointHook: stopped after {where}; checkpoint '
            f'{osp.abspath(path)}'
            + (f' ({later} further signal(s) ignored while saving)'
               if later > 0 else '') +
            f'. Resume with --resume. Exit status {self.exit_code}.',
            logger='current',
            level=logging.WARNING)
        if self.requeue and is_main_process():
            self._requeue()
        if torch.distributed.is_available() and \
                torch.distributed.is_initialized():
            # every rank is here (they agreed on this iteration): rank 0 has
            # written the checkpoint before anyone leaves
            torch.distributed.barrier()
            torch.distributed.destroy_process_group()
            # once the first rank has exited, torchrun sends SIGTERM to the
            # others; they must still exit with exit_code, also during the
            # interpreter's teardown, which resets Python-level handlers
            if threading.current_thread() is threading.main_thread():
                for sig in self.signals:
                    signal.signal(sig, signal.SIG_IGN)
        else:
            self._restore_handlers()
        raise TrainingPreempted(self.exit_code)

    @staticmethod
    def _requeue() -> Optional[int]:
        job = os.environ.get('SLURM_JOB_ID')
        if not job:
            print_log(
                'PreemptionCheckpointHook: requeue=True but SLURM_JOB_ID is '
                'not set; not requeued.',
                logger='current',
                level=logging.WARNING)
            return None
        try:
            out = subprocess.run(['scontrol', 'requeue', job],
                                 capture_output=True,
                                 text=True,
                                 timeout=60)
        except (OSError, subprocess.TimeoutExpired) as e:
            print_log(f'PreemptionCheckpointHook: scontrol requeue {job} '
                      f'failed: {e}',
                      logger='current',
                      level=logging.ERROR)
            return None
        level = logging.WARNING if out.returncode == 0 else logging.ERROR
        print_log(
            f'PreemptionCheckpointHook: scontrol requeue {job}: exit status '
            f'{out.returncode} {out.stderr.strip()}',
            logger='current',
            level=level)
        return out.returncode

"""CheckpointHook whose checkpoints and ``last_checkpoint`` never go corrupt.

mmengine's ``CheckpointHook`` (0.10.x) writes ``iter_N.pth`` in place,
writes ``work_dir/last_checkpoint`` with ``open(..., 'w')`` (truncate, then
write) and, with ``max_keep_ckpts``, deletes the oldest checkpoint *before*
saving the new one. A crash (SIGKILL, OOM killer, node preemption, full disk) in the wrong
moment therefore leaves a truncated ``iter_N.pth``, an empty
``last_checkpoint``, or a ``last_checkpoint`` that names a checkpoint already
deleted (with ``max_keep_ckpts=1`` there is then no checkpoint at all), and
``--resume`` cannot continue the run.
"""
import glob
import logging
import os
import os.path as osp
from typing import List, Optional

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

#: Temporary checkpoints are hidden files that do not end in ``.pth``, so
#: neither ``last_checkpoint`` nor a ``*.pth`` glob can ever pick one.
TMP_PATTERN = '.{name}.tmp-{pid}'


def fsync_path(path: str) -> None:
    """Flush a file's (or a folder's) data and metadata to the disk."""
    flags = os.O_RDONLY
    if osp.isdir(path):
        flags |= getattr(os, 'O_DIRECTORY', 0)
    try:
        fd = os.open(path, flags)
    except OSError:  # folders cannot be opened on Windows; nothing to sync
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_text(text: str, path: str) -> None:
    """Replace ``path`` by a file holding ``text``, never leaving it partial.

    The text goes to a temporary file in the same folder (same file system,
    so ``os.replace`` is an atomic rename), which is fsynced and then renamed
    over ``path``; the folder is fsynced so the rename itself is durable.
    """
    folder = osp.dirname(osp.abspath(path))
    name = TMP_PATTERN.format(name=osp.basename(path), pid=os.getpid())
    tmp = osp.join(folder, name)
    with open(tmp, 'w') as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_path(folder)


def save_checkpoint_atomically(runner,
                               out_dir: str,
                               filename: str,
                               by_epoch: bool = True,
                               meta: Optional[dict] = None,
                               **kwargs) -> str:
    """``runner.save_checkpoint`` into ``out_dir/filename``, atomically.

    1. ``runner.save_checkpoint`` writes ``.{filename}.tmp-<pid>`` in
       ``out_dir`` (rank 0 only, as mmengine; every rank must call this);
    2. the temporary file is fsynced and ``os.replace``-d onto ``filename``
       (an atomic rename on POSIX and Windows), and the folder is fsynced;
    3. only then ``runner.work_dir/last_checkpoint`` is replaced the same
       way, so it always names a complete checkpoint.

    Args:
        runner: The mmengine ``Runner``.
        out_dir (str): A local folder.
        filename (str): Name of the checkpoint, e.g. ``iter_8.pth``.
        by_epoch (bool): As ``Runner.save_checkpoint`` (which epoch/iter
            counters the checkpoint's ``meta`` holds).
        meta (dict, optional): Extra ``meta`` entries.
        **kwargs: Passed to ``Runner.save_checkpoint`` (``save_optimizer``,
            ``save_param_scheduler``, ``backend_args`` ...).

    Returns:
        str: The path of the checkpoint.
    """
    final_path = osp.join(out_dir, filename)
    tmp_filename = TMP_PATTERN.format(name=filename, pid=os.getpid())
    runner.save_checkpoint(  # rank 0 only (master_only)
        out_dir, tmp_filename, meta=meta, by_epoch=by_epoch, **kwargs)
    if is_main_process():
        tmp_path = osp.join(out_dir, tmp_filename)
        fsync_path(tmp_path)
        os.replace(tmp_path, final_path)
        fsync_path(out_dir)
        atomic_write_text(final_path,
                          osp.join(runner.work_dir, 'last_checkpoint'))
    return final_path


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` that saves regular checkpoints atomically.

    Same arguments and behaviour as :class:`mmengine.hooks.CheckpointHook`,
    except the order of the writes of a periodic/last checkpoint
    (``_save_checkpoint_with_step``):

    1. ``runner.save_checkpoint`` writes ``.iter_N.pth.tmp-<pid>`` in
       ``out_dir`` (rank 0 only, as mmengine);
    2. the temporary file is fsynced and ``os.replace``-d onto ``iter_N.pth``
       (an atomic rename on POSIX and Windows), and the folder is fsynced;
    3. only then ``work_dir/last_checkpoint`` is replaced the same way, so it
       always names a complete checkpoint;
    4. only then checkpoints beyond ``max_keep_ckpts`` are deleted.

    A crash at any point leaves the previous ``last_checkpoint`` and the
    checkpoint it names intact; at worst a stale hidden ``.*.tmp-<pid>`` file
    remains, which :meth:`before_train` of the next run (rank 0) deletes.

    Scope: checkpoints on a local (or mounted) file system. With a remote
    ``backend_args``/``file_client_args`` (e.g. petrel) there is no rename, so
    the hook warns and falls back to mmengine's behaviour. ``save_best``
    checkpoints are written by mmengine's code unchanged: they are not what
    ``--resume`` picks.

    Config::

        default_hooks = dict(
            checkpoint=dict(type='AtomicCheckpointHook', interval=500))
    """

    def _atomic(self) -> bool:
        return (self.file_client_args is None
                and isinstance(self.file_backend, LocalBackend))

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if not self._atomic():
            print_log(
                f'AtomicCheckpointHook: out_dir {self.out_dir!r} is not on a '
                'local file system; checkpoints are written non-atomically '
                'as by mmengine CheckpointHook.',
                logger='current',
                level=logging.WARNING)
        elif is_main_process():
            for folder in {self.out_dir, runner.work_dir}:
                for stale in self._stale_tmp_files(folder):
                    os.remove(stale)
                    print_log(
                        f'AtomicCheckpointHook: removed {stale}, a partial '
                        'checkpoint left by an interrupted run.',
                        logger='current',
                        level=logging.WARNING)

    @staticmethod
    def _stale_tmp_files(folder: str) -> List[str]:
        pattern = TMP_PATTERN.format(name='*', pid='*')
        return sorted(glob.glob(osp.join(glob.escape(folder), pattern)))

    def _save_checkpoint_with_step(self, runner, step: int,
                                   meta: Optional[dict]) -> None:
        if not self._atomic():
            super()._save_checkpoint_with_step(runner, step, meta)
            return

        ckpt_filename = self.filename_tmpl.format(step)
        final_path = osp.join(self.out_dir, ckpt_filename)
        self.last_ckpt = final_path
        runner.message_hub.update_info('last_ckpt', final_path)

        # Book-keeping first (it is stored in the checkpoint's message hub),
        # deletion of the outdated files last.
        outdated: List[int] = []
        if self.max_keep_ckpts > 0 and (not self.keep_ckpt_ids
                                        or self.keep_ckpt_ids[-1] != step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated.append(self.keep_ckpt_ids[0])
            self.keep_ckpt_ids.append(step)  # deque(maxlen) drops the oldest
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))

        save_checkpoint_atomically(
            runner,
            self.out_dir,
            ckpt_filename,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return

        for old_step in outdated:
            old = osp.join(self.out_dir, self.filename_tmpl.format(old_step))
            if self.file_backend.isfile(old):
                self.file_backend.remove(old)
            elif self.file_backend.isdir(old):
                self.file_backend.rmtree(old)

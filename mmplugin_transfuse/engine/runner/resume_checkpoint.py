"""Which checkpoint ``--resume`` may continue from, and why not another.

mmengine's ``Runner`` resumes from ``work_dir/last_checkpoint`` as it is: a
truncated or corrupt file fails deep inside ``torch.load``; an empty
``last_checkpoint`` makes it train from scratch without a word; a checkpoint
of another model "resumes" with a list of missing keys. These helpers read
each candidate once (on CPU, ``weights_only=True``) and say what is wrong
with it.
"""
import glob
import os
import os.path as osp
from typing import List, Mapping, Optional, Tuple

import torch
import torch.nn as nn


class BrokenCheckpointError(RuntimeError):
    """A checkpoint that training cannot resume from (the message names the
    file and the reason)."""


def _examples(names, n: int = 3) -> str:
    names = sorted(names)
    more = f' and {len(names) - n} more' if len(names) > n else ''
    return ', '.join(repr(x) for x in names[:n]) + more


def checkpoint_problem(path: str, model: Optional[nn.Module] = None
                       ) -> Optional[str]:
    """Why ``path`` cannot be resumed from, or ``None`` if it can.

    A resumable checkpoint is a readable ``torch.save`` file holding a
    ``dict`` with ``meta`` (``iter``/``epoch``), ``state_dict`` and
    ``optimizer`` (mmengine's ``Runner.save_checkpoint``), whose
    ``state_dict`` has exactly the parameter and buffer names and shapes of
    ``model`` (when given).

    Args:
        path (str): A local file.
        model (nn.Module, optional): The (unwrapped) model to resume.

    Returns:
        str | None: e.g. ``'is empty (0 bytes)'``.
    """
    try:
        size = os.path.getsize(path)
    except OSError as e:
        return f'cannot be opened ({e.strerror})'
    if size == 0:
        return 'is empty (0 bytes)'
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:  # zip, pickle, allow-list and I/O errors alike
        first = str(e).strip().splitlines()[0] if str(e).strip() else ''
        return (f'cannot be read as a checkpoint ({size} bytes; '
                f'{type(e).__name__}: {first[:200]})')
    if not isinstance(ckpt, Mapping):
        return f'holds a {type(ckpt).__name__}, not a checkpoint dict'
    missing = [k for k in ('meta', 'state_dict') if k not in ckpt]
    if missing:
        return ('is not an mmengine training checkpoint (no '
                f'{_examples(missing)} entry)')
    meta = ckpt['meta']
    if not isinstance(meta, Mapping) or not isinstance(
            meta.get('iter'), int) or not isinstance(meta.get('epoch'), int):
        return "has no integer meta['iter'] / meta['epoch']"
    if 'optimizer' not in ckpt:
        return ('holds no optimizer state (a weights-only or best '
                'checkpoint: use load_from to start from its weights)')
    state = ckpt['state_dict']
    if not isinstance(state, Mapping):
        return f"has a state_dict of type {type(state).__name__}"
    if model is not None:
        expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
        got = {k: tuple(v.shape) for k, v in state.items()
               if isinstance(v, torch.Tensor)}
        absent = set(expected) - set(got)
        extra = set(got) - set(expected)
        if absent or extra:
            parts = []
            if absent:
                parts.append(f'{len(absent)} of the model\'s '
                             f'{len(expected)} entries missing '
                             f'({_examples(absent)})')
            if extra:
                parts.append(f'{len(extra)} unknown ({_examples(extra)})')
            return ('holds the weights of another model: ' +
                    '; '.join(parts))
        shapes = [k for k in expected if expected[k] != got[k]]
        if shapes:
            k = sorted(shapes)[0]
            return (f'holds the weights of another model: {len(shapes)} '
                    f'entries of other shapes (e.g. {k!r}: '
                    f'{list(got[k])} instead of {list(expected[k])})')
    return None


def resume_candidates(work_dir: str) -> Tuple[List[str], List[str]]:
    """The checkpoints of ``work_dir``, newest first, and notes on
    ``last_checkpoint``.

    The file ``work_dir/last_checkpoint`` names comes first (mmengine's
    choice); then every other ``*.pth`` of ``work_dir`` and of that file's
    folder, newest modification time first.

    Returns:
        tuple[list[str], list[str]]: Candidate paths, and problems of
        ``last_checkpoint`` itself (empty, naming a missing file).
    """
    notes: List[str] = []
    first: Optional[str] = None
    folders = [work_dir]
    record = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(record):
        with open(record, errors='replace') as f:
            named = f.read().strip()
        if not named:
            notes.append(f'{record} is empty')
        elif not osp.isfile(named):
            notes.append(f'{record} names {named}, which does not exist')
        else:
            first = named
            folders.append(osp.dirname(named))
    others = {
        osp.abspath(p)
        for folder in folders
        for p in glob.glob(osp.join(glob.escape(folder), '*.pth'))
        if osp.isfile(p)
    }
    if first is not None:
        others.discard(osp.abspath(first))
    ordered = sorted(others, key=lambda p: (osp.getmtime(p), p), reverse=True)
    return ([first] if first else []) + ordered, notes

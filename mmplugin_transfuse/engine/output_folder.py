"""An output folder that a failed writer leaves as it found it.

The dataset converters write one sample after another; an unreadable
source file in the middle used to leave the samples before it in the output
folder, a converted data set that looks complete to a later run but is not.
"""
import contextlib
import os
import os.path as osp
import shutil
from typing import Iterator, Set


def _files(folder: str) -> Set[str]:
    return {
        osp.join(d, f)
        for d, _, names in os.walk(folder) for f in names
    }


@contextlib.contextmanager
def removed_on_failure(folder: str) -> Iterator[None]:
    """On an exception in the ``with`` body, delete what it wrote in
    ``folder``, then re-raise.

    A folder that did not exist before is removed whole; in an existing one
    the files and (then empty) sub-folders created by the body are removed,
    files that existed before are kept (a file the body overwrote keeps its
    new content: write into a new folder to convert atomically).
    """
    existed = osp.isdir(folder)
    before = _files(folder) if existed else set()
    try:
        yield
    except BaseException:
        if not existed:
            shutil.rmtree(folder, ignore_errors=True)
        elif osp.isdir(folder):
            for path in _files(folder) - before:
                with contextlib.suppress(OSError):
                    os.remove(path)
            for d, _, _ in sorted(os.walk(folder), reverse=True):
                if d != folder and not os.listdir(d):
                    with contextlib.suppress(OSError):
                        os.rmdir(d)
        raise

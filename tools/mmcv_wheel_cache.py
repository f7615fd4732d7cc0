"""Per-machine cache of the mmcv wheel that ``tools/setup_env.sh`` builds from source.

Building mmcv's ops takes minutes; the wheel is kept under

    ${MMPLUGIN_TRANSFUSE_CACHE:-${XDG_CACHE_HOME:-~/.cache}/mmplugin_transfuse}/wheels/
        torch-<torch version>-<cuXYZ of the torch build, or cpu>/mmcv-...whl (+ .json)

and reused by any later set-up whose interpreter matches it exactly. A compiled mmcv
only loads with the torch it was compiled against (torch has no stable C++ ABI), so
the ``.json`` written next to each wheel records what it was built for, and a wheel is
only offered when all of it matches:

* mmcv version, torch's full version (``2.14.1+cu130``) and the CUDA of the torch
  build, whether mmcv's CUDA ops were compiled (they are when torch sees a GPU or
  ``FORCE_CUDA=1``, as in mmcv's ``setup.py``);
* the wheel's Python/platform tags are supported by the interpreter (``cp311`` ...);
* the file is intact (sha256 as stored) and holds the compiled ``mmcv/_ext`` library.

Even then the ABI check that counts is ``import mmcv.ops`` after installing; when that
fails the wheel is removed from the cache and the caller rebuilds.

Run by the target interpreter (``$PY tools/mmcv_wheel_cache.py ...``) so that it sees
that interpreter's torch. Sub-commands: ``dir`` (the folder for this interpreter),
``install`` (exit 0: a cached wheel was installed and ``import mmcv.ops`` works; exit 1:
nothing usable, build it), ``store WHEEL`` (copy a freshly built wheel in).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Mapping, Optional

CACHE_ENV = 'MMPLUGIN_TRANSFUSE_CACHE'
VERIFY_CODE = 'import mmcv, mmcv.ops; print(mmcv.__version__)'


def log(msg: str) -> None:
    print(f'[mmcv-cache] {msg}', file=sys.stderr, flush=True)


def cache_root(env: Mapping[str, str] = os.environ) -> Path:
    """``$MMPLUGIN_TRANSFUSE_CACHE``, else ``${XDG_CACHE_HOME:-~/.cache}/mmplugin_transfuse``."""
    if env.get(CACHE_ENV):
        return Path(env[CACHE_ENV]).expanduser()
    base = env.get('XDG_CACHE_HOME') or str(Path.home() / '.cache')
    return Path(base).expanduser() / 'mmplugin_transfuse'


@dataclass(frozen=True)
class BuildAbi:
    """What a compiled mmcv wheel depends on besides its file name's Python tag."""
    mmcv: str  # '2.1.0'
    torch: str  # torch.__version__, e.g. '2.14.1+cu130'
    torch_cuda: Optional[str]  # torch.version.cuda, e.g. '13.0'; None for a CPU build
    cuda_ops: bool  # mmcv's CUDA kernels compiled in

    @property
    def folder(self) -> str:
        """``torch-<version>-<cuXYZ|cpu>``, the cache sub-folder for this ABI."""
        base = self.torch.split('+')[0]
        tag = 'cu' + self.torch_cuda.replace('.', '') if self.torch_cuda else 'cpu'
        return f'torch-{base}-{tag}'

    @classmethod
    def current(cls, mmcv_version: str, env: Mapping[str, str] = os.environ) -> 'BuildAbi':
        """The ABI a build from source would produce with this interpreter's torch."""
        import torch
        cuda_ops = bool(torch.version.cuda) and (
            torch.cuda.is_available() or env.get('FORCE_CUDA', '0') == '1')
        return cls(mmcv_version, torch.__version__, torch.version.cuda, cuda_ops)


def supported_tags() -> set[str]:
    from packaging.tags import sys_tags
    return {str(t) for t in sys_tags()}


def wheel_tags(path: Path) -> set[str]:
    from packaging.utils import parse_wheel_filename
    return {str(t) for t in parse_wheel_filename(path.name)[3]}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def _meta_path(wheel: Path) -> Path:
    return wheel.with_name(wheel.name + '.json')


def check_wheel(wheel: Path, abi: BuildAbi, tags: set[str]) -> Optional[str]:
    """Why ``wheel`` cannot be used for ``abi`` / ``tags`` (``None``: it can).

    Reasons starting with ``broken`` mean the file itself is bad (it gets removed);
    the others mean it belongs to another interpreter and is kept for that one.
    """
    meta_file = _meta_path(wheel)
    try:
        meta = json.loads(meta_file.read_text())
    except (OSError, ValueError) as e:
        return f'broken: no readable {meta_file.name} ({e.__class__.__name__})'
    want = asdict(abi)
    for key, value in want.items():
        if meta.get(key) != value:
            return f'built for {key}={meta.get(key)!r}, this interpreter has {value!r}'
    try:
        if not (wheel_tags(wheel) & tags):
            return f'tags {sorted(wheel_tags(wheel))} not supported by this interpreter'
    except ValueError as e:
        return f'broken: bad wheel file name ({e})'
    if sha256(wheel) != meta.get('sha256'):
        return 'broken: sha256 differs from the one stored with it'
    try:
        with zipfile.ZipFile(wheel) as z:
            if not any(n.startswith('mmcv/_ext') for n in z.namelist()):
                return 'broken: no compiled mmcv/_ext library inside'
    except zipfile.BadZipFile:
        return 'broken: not a zip file'
    return None


def evict(wheel: Path) -> None:
    for p in (wheel, _meta_path(wheel)):
        p.unlink(missing_ok=True)


def find_wheel(root: Path, abi: BuildAbi, tags: set[str]) -> Optional[Path]:
    """The newest usable cached wheel for ``abi`` / ``tags``, or ``None``.

    Unusable wheels are reported; broken ones are removed.
    """
    folder = root / 'wheels' / abi.folder
    wheels = sorted(folder.glob(f'mmcv-{abi.mmcv}-*.whl'),
                    key=lambda p: p.stat().st_mtime, reverse=True)
    for wheel in wheels:
        why = check_wheel(wheel, abi, tags)
        if why is None:
            return wheel
        log(f'ignoring {wheel}: {why}')
        if why.startswith('broken'):
            evict(wheel)
    return None


def store_wheel(root: Path, abi: BuildAbi, wheel: Path) -> Path:
    """Copy ``wheel`` into the cache (atomically, with its ``.json``); return the copy."""
    folder = root / 'wheels' / abi.folder
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / wheel.name
    meta = dict(asdict(abi), sha256=sha256(wheel), python=sys.version.split()[0])
    for src_write, target in ((lambda f: shutil.copyfile(wheel, f), dest),
                              (lambda f: Path(f).write_text(json.dumps(meta, indent=1)),
                               _meta_path(dest))):
        fd, tmp = tempfile.mkstemp(dir=folder, prefix='.tmp-')
        os.close(fd)
        try:
            src_write(tmp)
            os.chmod(tmp, 0o644)  # mkstemp makes it private; the cache is per machine
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)
    return dest


def install_cached(root: Path, abi: BuildAbi, tags: set[str],
                   install: Callable[[Path], bool], verify: Callable[[], bool]) -> Optional[Path]:
    """Install the cached wheel for ``abi`` and check it imports; ``None`` if none works.

    A wheel that installs but fails ``verify`` (``import mmcv.ops``) is removed from
    the cache, so the next set-up does not try it again.
    """
    wheel = find_wheel(root, abi, tags)
    if wheel is None:
        log(f'no cached mmcv {abi.mmcv} wheel for torch {abi.torch} in '
            f'{root / "wheels" / abi.folder}')
        return None
    log(f'installing cached {wheel}')
    if not install(wheel):
        log(f'pip could not install {wheel}: removing it from the cache')
        evict(wheel)
        return None
    if not verify():
        log(f'{wheel} installed but `import mmcv.ops` fails with torch {abi.torch} '
            '(wrong ABI): removing it from the cache, mmcv will be rebuilt')
        evict(wheel)
        return None
    return wheel


def _pip_install(wheel: Path) -> bool:
    cmd = [sys.executable, '-m', 'pip', 'install', '--disable-pip-version-check',
           '--no-deps', '--force-reinstall', str(wheel)]
    return subprocess.run(cmd).returncode == 0


def _verify_import() -> bool:
    r = subprocess.run([sys.executable, '-c', VERIFY_CODE], capture_output=True, text=True)
    if r.returncode != 0:
        log('import mmcv.ops: ' + (r.stderr.strip().splitlines() or ['?'])[-1])
    return r.returncode == 0


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--mmcv', default='2.1.0', help='mmcv version (default 2.1.0)')
    sub = ap.add_subparsers(dest='cmd', required=True)
    sub.add_parser('dir', help='print the cache folder for this interpreter')
    sub.add_parser('install', help='install + verify a cached wheel (exit 1: none usable)')
    st = sub.add_parser('store', help='copy a built wheel into the cache')
    st.add_argument('wheel', type=Path)
    args = ap.parse_args(argv)
    root = cache_root()
    abi = BuildAbi.current(args.mmcv)
    if args.cmd == 'dir':
        print(root / 'wheels' / abi.folder)
        return 0
    if args.cmd == 'install':
        wheel = install_cached(root, abi, supported_tags(), _pip_install, _verify_import)
        return 0 if wheel else 1
    if not args.wheel.is_file():
        ap.error(f'{args.wheel}: no such wheel file')
    print(store_wheel(root, abi, args.wheel))
    return 0


if __name__ == '__main__':
    sys.exit(main())

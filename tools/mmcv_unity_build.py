"""Patch an unpacked mmcv 2.1.0 source tree so that its ops compile in minutes.

Why (measured on the 2-core machines, torch 2.14.1, g++ 12, user CPU seconds per
translation unit, see README "Quick start"):

* every one of mmcv's 77 op files includes the torch headers; parsing them costs
  ~19 s per file (``-fsyntax-only`` on ``nms.cpp``: 19.3 s), while the op code itself
  compiles in ~1-3 s;
* ``-g`` (from Python's own ``CFLAGS``) nearly doubles that: ``nms.cpp`` 36.3 s with
  ``-g``, 20.3 s with ``-g0``; the debug info is dead weight in the wheel (32 MB vs
  ~2 MB stripped) and nobody debugs mmcv's kernels from it;
* a unity build of 11 op files into one translation unit took 19.9 s, the same as one
  file, because the headers are parsed once.

So this script (a) concatenates ``mmcv/ops/csrc/pytorch/*.cpp`` and
``mmcv/ops/csrc/pytorch/cpu/*.cpp`` into a few unity translation units (the CUDA ``.cu``
files and the other back ends are left as they are), (b) adds ``-g0`` to the C++ flags,
and (c) replaces ``-std=c++17`` with ``-std=c++20`` when asked (torch >= 2.10 headers need
C++20). What gets built is unchanged: the same sources, macros and optimisation level.

A unity build is only correct if the files do not clash when they share one translation
unit. mmcv's op files have no file-``static`` symbols and no anonymous namespaces (the
script checks), but some define helpers with the same names (``bilinear_interpolate``
...), one ``#define``\\ s ``min``/``max`` and one says ``using namespace std``. The plan
therefore

* never puts two files that define the same top-level name into one unit,
* ``#undef``\\ s every macro a file defines right after it,
* puts a file with a file-level ``using namespace`` last in its unit (one per unit).

A precompiled header was measured too (``-include`` of the two mmcv helper headers:
``nms.cpp`` 4.2 s, but building the 458 MB ``.gch`` costs 31 s and its flags must match
torch's exactly); with a handful of unity units it saves less than it costs, so it is
not used.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

#: Where the unity sources are written, relative to the mmcv source root (outside the
#: globbed folders so mmcv's own globs never pick them up twice).
UNITY_DIR = Path('mmcv/ops/csrc/unity')
OP_GLOBS = ('mmcv/ops/csrc/pytorch/*.cpp', 'mmcv/ops/csrc/pytorch/cpu/*.cpp')

# The expression every torch branch of mmcv 2.1.0's setup.py uses for its C++ sources.
_SETUP_GLOB = re.compile(
    r"glob\.glob\('\./mmcv/ops/csrc/pytorch/\*\.cpp'\)\s*\+\s*\\\s*\n\s*"
    r"glob\.glob\('\./mmcv/ops/csrc/pytorch/cpu/\*\.cpp'\)")
_SETUP_EXT_CALL = '        ext_ops = extension(\n            name=ext_name,'

_COMMENT = re.compile(r'//[^\n]*|/\*.*?\*/', re.S)
_STRING = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'')
_DEFINE = re.compile(r'^\s*#\s*define\s+([A-Za-z_]\w*)', re.M)
_USING_NS = re.compile(r'^\s*using\s+namespace\s+([\w:]+)\s*;', re.M)
_TYPE_DEF = re.compile(r'\b(?:struct|class|union|enum(?:\s+class)?)\s+([A-Za-z_]\w*)'
                       r'[^;{()]*$')
_FUNC_DEF = re.compile(r'([A-Za-z_]\w*)\s*(?:<[^<>]*>)?\s*\([^()]*(?:\([^()]*\)[^()]*)*\)'
                       r'[^;{}()]*$', re.S)
_MACRO_CALL = re.compile(r'^[A-Z_][A-Z0-9_]*$')
_KEYWORDS = {'if', 'for', 'while', 'switch', 'catch', 'return', 'sizeof', 'defined'}


def _strip(text: str) -> str:
    """Source text without comments, string/char literals and preprocessor lines."""
    text = _COMMENT.sub(' ', text)
    text = _STRING.sub('""', text)
    return '\n'.join('' if ln.lstrip().startswith('#') else ln
                     for ln in text.splitlines())


def _top_level_heads(code: str) -> list[str]:
    """The text before every ``{`` that opens a block at file (or namespace) scope."""
    heads, depth, start, ns_depths = [], 0, 0, []
    for i, ch in enumerate(code):
        if ch == '{':
            head = code[start:i]
            if depth == len(ns_depths):  # file scope or directly inside a namespace
                tail = head.split(';')[-1].split('}')[-1]
                if re.search(r'\bnamespace\b[\w\s:]*$', tail):
                    ns_depths.append(depth)
                else:
                    heads.append(tail)
            depth += 1
            start = i + 1
        elif ch == '}':
            depth -= 1
            if ns_depths and ns_depths[-1] == depth:
                ns_depths.pop()
            start = i + 1
        elif ch == ';' and depth == len(ns_depths):
            start = i + 1
    return heads


def defined_names(text: str) -> set[str]:
    """Names of the functions and types a C++ file defines at file/namespace scope.

    Overloads count as the same name: two files defining ``f`` are kept apart even
    when the signatures differ, which is conservative but always safe.
    """
    names = set()
    for head in _top_level_heads(_strip(text)):
        head = head.strip()
        m = _TYPE_DEF.search(head)
        if m:
            names.add(m.group(1))
            continue
        m = _FUNC_DEF.search(head)
        if m and m.group(1) not in _KEYWORDS and not _MACRO_CALL.match(m.group(1)):
            names.add(m.group(1))
    return names


def file_local_problems(text: str) -> list[str]:
    """Constructs a unity build cannot handle (file-local symbols whose names may clash)."""
    code = _strip(text)
    problems = []
    if re.search(r'\bnamespace\s*\{', code):
        problems.append('anonymous namespace')
    for head in _top_level_heads(code):
        if re.match(r'\s*static\b', head):
            problems.append('file-static definition')
            break
    return problems


def plan_units(sources: dict[str, str], n_units: int) -> list[list[str]]:
    """Split ``sources`` (name -> text) into at most ``n_units`` clash-free unity units.

    Files are placed largest first into the least loaded unit they do not clash with
    (same defined name, or a second file-level ``using namespace``); a file that clashes
    with every unit opens a new one, so the result may have more than ``n_units``.
    Inside a unit, files keep their sorted order except that the one with a
    ``using namespace`` goes last, so its directive reaches no other file.
    """
    if n_units < 1:
        raise ValueError(f'n_units must be >= 1, got {n_units}')
    names = {f: defined_names(t) for f, t in sources.items()}
    using = {f for f, t in sources.items()
             if set(_USING_NS.findall(_strip_comments_only(t))) - {'at'}}
    units: list[dict] = [dict(files=[], names=set(), using=False, size=0)
                         for _ in range(n_units)]
    for f in sorted(sources, key=lambda f: (-len(sources[f]), f)):
        fits = [u for u in units
                if not (u['names'] & names[f]) and not (u['using'] and f in using)]
        if not fits:
            fits = [dict(files=[], names=set(), using=False, size=0)]
            units.append(fits[0])
        unit = min(fits, key=lambda u: u['size'])
        unit['files'].append(f)
        unit['names'] |= names[f]
        unit['using'] |= f in using
        unit['size'] += len(sources[f])
    return [sorted(u['files'], key=lambda f: (f in using, f)) for u in units if u['files']]


def _strip_comments_only(text: str) -> str:
    return _COMMENT.sub(' ', text)


def unity_text(files: list[str], sources: dict[str, str], include_as=None) -> str:
    """One unity translation unit: ``#include`` every file, ``#undef`` its macros after.

    ``include_as`` maps a file name to the path written in its ``#include`` (default:
    the name itself).
    """
    lines = ['// Generated by mmplugin_transfuse tools/mmcv_unity_build.py: a unity build',
             '// of mmcv op files (see that script for why and how clashes are avoided).']
    for f in files:
        lines.append(f'#include "{include_as(f) if include_as else f}"')
        for macro in sorted(set(_DEFINE.findall(_strip_comments_only(sources[f])))):
            lines.append(f'#undef {macro}')
    return '\n'.join(lines) + '\n'


def write_unity_sources(src_root: Path, n_units: int) -> list[Path]:
    """Write the unity units under ``src_root/UNITY_DIR``; return their paths."""
    files = sorted(p for g in OP_GLOBS for p in src_root.glob(g))
    if not files:
        raise FileNotFoundError(f'no op sources matching {OP_GLOBS} under {src_root}')
    # Keys are the paths as written in the #include, relative to the unity folder, so
    # the patched tree can be moved (pip copies it to a temporary folder).
    sources = {'../' + p.relative_to(src_root / 'mmcv/ops/csrc').as_posix():
               p.read_text(encoding='utf-8', errors='replace') for p in files}
    bad = {f: file_local_problems(t) for f, t in sources.items()}
    bad = {f: p for f, p in bad.items() if p}
    if bad:
        raise ValueError('unity build unsafe, file-local symbols in: '
                         + '; '.join(f'{f} ({", ".join(p)})' for f, p in bad.items()))
    out_dir = src_root / UNITY_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, unit in enumerate(plan_units(sources, n_units)):
        path = out_dir / f'unity_{i:02d}.cpp'
        path.write_text(unity_text(unit, sources), encoding='utf-8')
        paths.append(path)
    return paths


def patch_setup_py(text: str, unity_files: list[str] | None, cxx20: bool,
                   no_debug_info: bool = True) -> str:
    """mmcv 2.1.0's ``setup.py`` with the source list / flags changed as documented above.

    Raises ``ValueError`` naming the missing piece when the file is not the expected
    mmcv 2.1.0 ``setup.py`` (a silent no-op would quietly give the 40-minute build).
    """
    if cxx20:
        if '-std=c++17' not in text:
            raise ValueError("setup.py: no '-std=c++17' to raise to C++20")
        text = text.replace('-std=c++17', '-std=c++20')
    if unity_files is not None:
        n = len(_SETUP_GLOB.findall(text))
        if n == 0:
            raise ValueError('setup.py: the pytorch/*.cpp + pytorch/cpu/*.cpp glob of '
                             'mmcv 2.1.0 was not found, cannot switch to unity sources')
        rel = [f'./{Path(f).as_posix()}' for f in unity_files]
        text = _SETUP_GLOB.sub(lambda _: repr(rel), text)
    if no_debug_info:
        if _SETUP_EXT_CALL not in text:
            raise ValueError("setup.py: 'ext_ops = extension(' not found, cannot add -g0")
        text = text.replace(
            _SETUP_EXT_CALL,
            "        if platform.system() != 'Windows':  # mmplugin_transfuse: no debug info\n"
            "            extra_compile_args['cxx'] = list(extra_compile_args.get('cxx', [])) "
            "+ ['-g0']\n" + _SETUP_EXT_CALL, 1)
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('src', type=Path, help='unpacked mmcv source tree (has setup.py)')
    ap.add_argument('--units', type=int, default=4,
                    help='number of unity translation units (default 4)')
    ap.add_argument('--cxx20', action='store_true', help='replace -std=c++17 by -std=c++20')
    ap.add_argument('--no-unity', action='store_true',
                    help='only the flag patches: every op file compiled on its own')
    args = ap.parse_args(argv)
    setup_py = args.src / 'setup.py'
    if not setup_py.is_file():
        ap.error(f'{setup_py} not found: SRC must be an unpacked mmcv source tree')
    unity = None
    if not args.no_unity:
        unity = [str(p.relative_to(args.src)) for p in write_unity_sources(args.src, args.units)]
    setup_py.write_text(patch_setup_py(setup_py.read_text(), unity, args.cxx20))
    n_ops = sum(1 for g in OP_GLOBS for _ in args.src.glob(g))
    print(f'{n_ops} op files -> {len(unity)} unity units' if unity
          else f'{n_ops} op files, compiled one by one')
    return 0


if __name__ == '__main__':
    sys.exit(main())

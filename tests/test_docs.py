"""The documentation: no development history, no broken links or paths, and
the config snippets of the README build.

The checkers are plain functions on text, so each is tested on planted
input as well as run on the repository's tracked files.
"""
import os.path as osp
import re
import subprocess
import unicodedata
from typing import Dict, Iterable, List, Optional, Set, Tuple

import pytest
import yaml

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

# What the history scan reads: tracked text files. Files without a suffix are
# read when their name is listed here or they sit in `.ci/`.
TEXT_SUFFIXES = ('.md', '.py', '.yml', '.yaml', '.cfg', '.sh', '.txt', '.cff',
                 '.ini', '.in', '.toml', '.json', '.gitignore')
TEXT_NAMES = ('Makefile', )
# This file plants history on purpose (see the tests of the checker).
SELF = 'tests/test_docs.py'

# (name, pattern) pairs of development history. Matching is case-insensitive.
HISTORY_PATTERNS: List[Tuple[str, 're.Pattern']] = [
    ('session number', re.compile(r'\bsessions?[- ]\d', re.I)),
    ('this/last session',
     re.compile(r'\b(?:this|last|next|previous|earlier|later|a later|'
                r'an earlier) session\b', re.I)),
    ('issue number', re.compile(r'\bissues?[- ]#?\d', re.I)),
    ('the issue asks',
     re.compile(r"\b(?:the|this|that) issue(?:'s)? (?:asks|asked|says|said|"
                r'wants|wanted|requires|required|targets?|recipe)\b', re.I)),
    # `#12`, `(#12)`, `PR #12`; not hex colours (`#000000`), not `# 12`
    # comments and not `a#1`-style identifiers.
    ('#N reference', re.compile(r'(?<![\w#&\'"/])#\d{1,5}(?![\w])')),
    ('machine path',
     re.compile(r'(?<![\w.~-])/(?:work|home|root)/(?=\w)')),
    ('load average', re.compile(r'\bload (?:average|avg)\b', re.I)),
    ('quiet machine',
     re.compile(r'\bquiet (?:[\w-]+ ){0,2}machines?\b', re.I)),
    ('scratch tool',
     re.compile(r'\bscratch (?:script|driver|plugin|timing|trial|run|'
                r'file)s?\b', re.I)),
]
# In prose (.md, .cff) a literal temporary folder is one machine's run too;
# code may name `/tmp/` legitimately (e.g. a default of the OS), so only docs.
DOC_ONLY_PATTERNS = [('temporary folder path',
                      re.compile(r'(?<![\w.~-])/tmp/\w'))]
DOC_SUFFIXES = ('.md', '.cff')


def find_history(text: str, doc: bool = False) -> List[Tuple[int, str, str]]:
    """``(line number, pattern name, line)`` of every development-history hit.

    Args:
        text: The file's text.
        doc: Also apply the prose-only patterns (a ``.md``/``.cff`` file).
    """
    patterns = HISTORY_PATTERNS + (DOC_ONLY_PATTERNS if doc else [])
    # one pass over the whole text first: most files have no hit at all
    flat = re.sub(r'\n[ \t#*>"\']*', ' ', text)  # as the per-line reading
    if not any(p.search(flat) for _, p in patterns):
        return []
    lines = text.splitlines()
    hits = []
    for lineno, line in enumerate(lines, 1):
        # a phrase may wrap: read on into the next line (without its comment
        # or docstring lead), count only matches that start on this line
        following = lines[lineno].lstrip(' \t#*>"\'') if lineno < len(
            lines) else ''
        joined = line + ' ' + following
        for name, pattern in patterns:
            if any(m.start() < len(line) for m in pattern.finditer(joined)):
                hits.append((lineno, name, line.strip()))
    return hits


def tracked_text_files() -> List[str]:
    """Tracked files (relative paths) the history scan reads."""
    out = subprocess.run(['git', 'ls-files', '-z'],
                         cwd=REPO_ROOT,
                         capture_output=True,
                         check=True).stdout.decode()
    files = []
    for rel in out.split('\0'):
        if not rel or rel == SELF:
            continue
        name = osp.basename(rel)
        if (rel.endswith(TEXT_SUFFIXES) or name in TEXT_NAMES
                or rel.startswith('.ci/')):
            if osp.isfile(osp.join(REPO_ROOT, rel)):
                files.append(rel)
    return files


# ---------------------------------------------------------------- links/paths
LINK_RE = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)')
# A repository path named anywhere in a document: prose, backticks, code
# blocks. Not preceded by a path or scope character, so `mmdet::configs/...`
# or `.../site-packages/mmdet/.mim/tools/...` are not taken for ours.
PATH_RE = re.compile(r'(?<![\w./:~$-])((?:configs|tools|docs|tests|'
                     r'mmplugin_transfuse)/[^\s`\'"()|,;]*)')
# Placeholders and patterns stand for many paths: not checked.
PLACEHOLDER_CHARS = ('<', '*', '{', '...', '\u2026', '$', '[')
HEADING_RE = re.compile(r'^(#{1,6})\s+(.*?)\s*#*\s*$')
FENCE_RE = re.compile(r'^\s*(```|~~~)')


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading (before de-duplication)."""
    text = re.sub(r'`|\*\*|__', '', heading)
    text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', text)  # link text only
    text = text.strip().lower()
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in ' -_' or cat[0] in ('L', 'N'):
            out.append('-' if ch == ' ' else ch)
    return ''.join(out)


def heading_anchors(text: str) -> Set[str]:
    """Every anchor of a Markdown text's headings (``x``, ``x-1``, ...)."""
    anchors: Set[str] = set()
    seen: Dict[str, int] = {}
    in_fence = False
    for line in text.splitlines():
        if FENCE_RE.match(line):
            in_fence = not in_fence
            continue
        m = None if in_fence else HEADING_RE.match(line)
        if m:
            slug = github_slug(m.group(2))
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            anchors.add(slug if n == 0 else f'{slug}-{n}')
    return anchors


def _read(path: str) -> Optional[str]:
    try:
        with open(path, encoding='utf-8') as f:
            return f.read()
    except (OSError, UnicodeDecodeError):
        return None


def find_broken_refs(text: str, doc_path: str,
                     repo_root: str) -> List[Tuple[int, str]]:
    """``(line number, problem)`` for each dead link or missing path.

    Checks every relative Markdown link (file and ``#anchor``, against the
    target's headings) and every ``configs/``, ``tools/``, ``docs/``,
    ``tests/`` or ``mmplugin_transfuse/`` path named in the text (relative
    to ``repo_root``). Links with a scheme (``https:``, ``mailto:``) and
    paths with placeholders (``<config>``, ``*``, ``{a,b}``, ``...``) are
    skipped.

    Args:
        text: The Markdown text.
        doc_path: Its path, absolute or relative to ``repo_root``; relative
            links resolve from its folder.
        repo_root: The repository root.
    """
    doc_abs = doc_path if osp.isabs(doc_path) else osp.join(repo_root,
                                                            doc_path)
    doc_dir = osp.dirname(doc_abs)
    problems = []
    own_anchors = heading_anchors(text)
    for lineno, line in enumerate(text.splitlines(), 1):
        for target in LINK_RE.findall(line):
            if re.match(r'^[a-z][a-z0-9+.-]*:', target, re.I):
                continue  # http(s):, mailto: ...
            path, _, anchor = target.partition('#')
            if not path:
                if anchor not in own_anchors:
                    problems.append((lineno, f'no heading for #{anchor}'))
                continue
            dest = osp.normpath(osp.join(doc_dir, path))
            if not osp.exists(dest):
                problems.append((lineno, f'link target missing: {target}'))
            elif anchor and dest.endswith('.md'):
                if anchor not in heading_anchors(_read(dest) or ''):
                    problems.append(
                        (lineno, f'no heading for #{anchor} in {path}'))
        # link targets are checked above; the rest of the line for paths
        for raw in PATH_RE.findall(LINK_RE.sub('', line)):
            if any(c in raw for c in PLACEHOLDER_CHARS):
                continue
            rel = raw.rstrip('.,;:!?')
            if not osp.exists(osp.join(repo_root, rel)):
                problems.append((lineno, f'path missing: {rel}'))
    return problems


def doc_files() -> List[str]:
    """README.md, docs/*.md and configs/*/README.md (relative paths)."""
    import glob
    files = ['README.md']
    files += sorted(
        osp.relpath(p, REPO_ROOT)
        for p in glob.glob(osp.join(REPO_ROOT, 'docs', '*.md')))
    files += sorted(
        osp.relpath(p, REPO_ROOT)
        for p in glob.glob(osp.join(REPO_ROOT, 'configs', '*', 'README.md')))
    return [f for f in files if osp.isfile(osp.join(REPO_ROOT, f))]


# ---------------------------------------------------------------- the checks
def test_history_checker_finds_planted_hits():
    planted = '\n'.join([
        'fine line',
        'measured in ses' + 'sion 4 on the machine',  # 2
        'see iss' + 'ue 15 for the targets',  # 3
        'fixed in (' + '#12)',  # 4
        'python x.py --out /wo' + 'rk/scratch/a',  # 5
        'at a lo' + 'ad average of 3',  # 6
        'on a qu' + 'iet 2-core machine',  # 7
        'with a scra' + 'tch script',  # 8
        'Issue-' + '#3 again',  # 9
        '800x1216, as the is' + 'sue asks',  # 10
        '# measured in ses' + 'sion',  # 11: wraps onto the next line
        '# 3 on the machine',
        'as the',  # 13
        '# is' + 'sue asks',
    ])
    hits = find_history(planted)
    assert sorted({h[0] for h in hits}) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13]
    assert find_history('x --work-dir /t' + 'mp/a1') == []
    assert [h[1] for h in find_history('x --work-dir /t' + 'mp/a1',
                                       doc=True)] == ['temporary folder path']


def test_history_checker_ignores_code_that_is_not_history():
    clean = '\n'.join([
        "color = '#000000'  # 1 line comment",
        'x = a[1]  # 2 heads',
        '# 3x3 conv',
        'data_root/work/ is not a machine path: data_root = "data/work/"',
        'the session of a Runner',
        'issues are reported on stderr',
        'ratio #channels',
    ])
    assert find_history(clean) == []


def test_tracked_files_have_no_development_history():
    hits = []
    for rel in tracked_text_files():
        text = _read(osp.join(REPO_ROOT, rel))
        if text is None:
            continue
        for lineno, name, line in find_history(
                text, doc=rel.endswith(DOC_SUFFIXES)):
            hits.append(f'{rel}:{lineno}: {name}: {line[:120]}')
    assert not hits, 'development history in tracked files:\n' + '\n'.join(
        hits)


def test_ref_checker_finds_planted_problems(tmp_path):
    (tmp_path / 'configs' / 'x').mkdir(parents=True)
    (tmp_path / 'configs' / 'x' / 'a.py').write_text('')
    (tmp_path / 'docs').mkdir()
    (tmp_path / 'docs' / 'b.md').write_text('# Title\n\n## Some `code` part\n')
    text = '\n'.join([
        '# Top',
        'See [b](docs/b.md) and [part](docs/b.md#some-code-part).',  # ok
        'A [dead](docs/missing.md) link.',  # 3
        'A [bad anchor](docs/b.md#nope).',  # 4
        'Run `python tools/none.py configs/x/a.py`.',  # 5: tools missing
        '```bash', 'mim train mmseg configs/x/b.py', '```',  # 7
        'Placeholders: `configs/x/<config>.py`, `configs/x/*.py`.',
        '[up](#top), [web](https://example.org/x.md), mmdet::configs/y.py',
        '[local anchor](#nowhere)',  # 11
    ])
    problems = find_broken_refs(text, 'README.md', str(tmp_path))
    assert [p[0] for p in problems] == [3, 4, 5, 7, 11], problems


def test_github_slug():
    assert github_slug('Use one component in your own config') == \
        'use-one-component-in-your-own-config'
    assert github_slug('Multi-scale SMCA') == 'multi-scale-smca'
    assert github_slug('TransFuse (mmseg) — `configs/transfuse/`') == \
        'transfuse-mmseg--configstransfuse'
    assert heading_anchors('# A\n## A\n```\n# not a heading\n```\n') == {
        'a', 'a-1'
    }


@pytest.mark.parametrize('doc', doc_files())
def test_doc_links_and_paths_resolve(doc):
    text = _read(osp.join(REPO_ROOT, doc))
    problems = find_broken_refs(text, doc, REPO_ROOT)
    assert not problems, '\n'.join(f'{doc}:{n}: {p}' for n, p in problems)


def test_metafiles_name_existing_configs():
    with open(osp.join(REPO_ROOT, 'model-index.yml')) as f:
        index = yaml.safe_load(f)
    missing = []
    for meta in index['Import']:
        with open(osp.join(REPO_ROOT, meta)) as f:
            data = yaml.safe_load(f)
        for col in data.get('Collections', []):
            if not osp.isfile(osp.join(REPO_ROOT, col['README'])):
                missing.append(f'{meta}: README {col["README"]}')
        for model in data['Models']:
            if not osp.isfile(osp.join(REPO_ROOT, model['Config'])):
                missing.append(f'{meta}: {model["Name"]}: {model["Config"]}')
            if osp.splitext(osp.basename(model['Config']))[0] != model['Name']:
                missing.append(f'{meta}: name {model["Name"]} is not the '
                               f'config file name {model["Config"]}')
    assert not missing, '\n'.join(missing)


# ------------------------------------------------------- the README snippets
SNIPPET_MARK = '<!-- config-check: '


def readme_snippets(text: str) -> List[Tuple[str, str]]:
    """``(scope, code)`` of each ```python block after a check marker.

    A marker ``<!-- config-check: mmseg -->`` (or ``mmdet``) on the line
    before a fenced python block makes the test build that block as a config.
    """
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.strip().startswith(SNIPPET_MARK):
            scope = line.strip()[len(SNIPPET_MARK):].split()[0]
            assert lines[i + 1].strip() == '```python', \
                f'README.md:{i + 1}: a config-check marker must precede a ' \
                '```python block'
            end = lines.index('```', i + 2)
            out.append((scope, '\n'.join(lines[i + 2:end]) + '\n'))
    return out


def _snippet_ids() -> Iterable[str]:
    text = _read(osp.join(REPO_ROOT, 'README.md')) or ''
    return [f'{s}-{i}' for i, (s, _) in enumerate(readme_snippets(text))]


@pytest.mark.parametrize('snippet_id', _snippet_ids())
def test_readme_config_snippet_builds(snippet_id, tmp_path):
    """Each marked README snippet loads as a config and its parts build."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    text = _read(osp.join(REPO_ROOT, 'README.md'))
    index = int(snippet_id.rsplit('-', 1)[1])
    scope, code = readme_snippets(text)[index]
    path = tmp_path / 'snippet.py'
    path.write_text(code)
    cfg = Config.fromfile(str(path))
    assert cfg.default_scope == scope
    assert cfg.custom_imports['imports'] == ['mmplugin_transfuse']
    import mmplugin_transfuse  # noqa: F401 (what custom_imports loads)
    init_default_scope(scope)
    if scope == 'mmseg':
        from mmseg.registry import METRICS, MODELS
        model = MODELS.build(cfg.model)
        loss = model.decode_head.loss_decode
        assert type(loss).__name__ == 'StructureLoss'
        assert model.decode_head.out_channels == 1
        metric = METRICS.build(cfg.val_evaluator)
        assert type(metric).__name__ == 'PerImageDiceMetric'
        assert type(METRICS.build(cfg.test_evaluator)).__name__ == \
            'PerImageDiceMetric'
    else:
        from mmdet.registry import MODELS
        model = MODELS.build(cfg.model)
        assert type(model).__name__ == 'SMCADETR'
        assert type(model.bbox_head).__name__ == 'SMCADETRHead'
        assert type(model.decoder).__name__ == 'SMCATransformerDecoder'


# ------------------------------------------------------ the architecture tree
def tree_dirs(text: str, root: str = 'mmplugin_transfuse') -> Set[str]:
    """Folders named in the README's architecture tree under ``root/``.

    The tree is the first fenced block after ``## Architecture``; a line
    ``<2k spaces>name/`` is a folder at depth k, and ``a/ (...), b/ (...)``
    on a continuation line are sub-folders of the folder above.
    """
    lines = text.split('## Architecture', 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if FENCE_RE.match(line))
    stack: List[str] = []
    found: Set[str] = set()
    last_depth = -1
    for line in lines[start + 1:]:
        if FENCE_RE.match(line):
            break
        m = re.match(r'^( *)([\w.]+)/(\s|$)', line)
        indent = len(m.group(1)) if m else -1
        # a folder line sits at an even indent at most one level below the
        # last folder; anything indented further continues its description
        if m and indent % 2 == 0 and indent // 2 <= last_depth + 1:
            depth = indent // 2
            stack = stack[:depth] + [m.group(2)]
            last_depth = depth
            rest = line[m.end():]
            if stack[0] == root:
                found.add('/'.join(stack))
        elif line.strip() and last_depth >= 0:
            rest = line  # a continuation line of the folder above
        else:
            continue
        # `x/ (...)` names in the description: sub-folders of this line's
        # folder, listed in prose
        if stack and stack[0] == root:
            for sub in re.findall(r'(?<![\w/])([a-z_]+)/(?=[\s(,:]|$)',
                                  rest):
                found.add('/'.join(stack + [sub]))
    return found


def package_dirs(root: str = 'mmplugin_transfuse') -> Set[str]:
    """The package's folders that are Python packages (have __init__.py)."""
    import os
    out = set()
    for dirpath, dirnames, filenames in os.walk(osp.join(REPO_ROOT, root)):
        dirnames[:] = [
            d for d in dirnames if not d.startswith(('.', '__pycache__'))
        ]
        if '__init__.py' in filenames:
            out.add(osp.relpath(dirpath, REPO_ROOT))
    return out


def test_tree_parser():
    text = '\n'.join([
        '## Architecture', '```', 'pkg/    top', '  a/    x',
        '    m/   y: b/ (z), c/ (w)', '         more: d/ (v)', '  e/',
        'configs/   _base_/ (x)', '```'
    ])
    assert tree_dirs(text, 'pkg') == {
        'pkg', 'pkg/a', 'pkg/a/m', 'pkg/a/m/b', 'pkg/a/m/c', 'pkg/a/m/d',
        'pkg/e'
    }


def test_readme_architecture_tree_matches_the_package():
    text = _read(osp.join(REPO_ROOT, 'README.md'))
    named = tree_dirs(text)
    actual = package_dirs()
    assert named == actual, (
        f'in the tree but not in the package: {sorted(named - actual)}; '
        f'in the package but not in the tree: {sorted(actual - named)}')

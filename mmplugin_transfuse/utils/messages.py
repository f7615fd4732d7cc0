"""Error and log messages that list offending items without flooding, and
the reading of user JSON files with errors that name the file."""
import json
from typing import Any, Optional, Sequence


def first_n_and_more(items: Sequence[Any],
                     n: int,
                     sep: Optional[str] = None) -> str:
    """The first ``n`` of ``items`` and how many more there are.

    Args:
        items (Sequence): Everything that could be listed (already in the
            order to show).
        n (int): How many to show.
        sep (str, optional): ``None`` shows the items as a Python list,
            e.g. ``"['a', 'b', 'c'] and 7 more"``; a string joins their
            ``str`` forms, e.g. with ``sep='\\n  '``
            ``"a\\n  b\\n  c\\n  ... and 7 more"``.

    Returns:
        str: The listing; nothing is appended when ``len(items) <= n``.
    """
    items = list(items)
    shown, more = items[:n], len(items) - n
    if sep is None:
        return f'{shown}' + (f' and {more} more' if more > 0 else '')
    return sep.join(str(x) for x in shown) + (
        f'{sep}... and {more} more' if more > 0 else '')


def load_json_file(path: str, source: Optional[str] = None) -> Any:
    """Parse a UTF-8 JSON file, with errors that name it.

    ``json.load`` and ``mmengine.load`` raise ``UnicodeDecodeError`` /
    ``JSONDecodeError`` that say where the text breaks but not which file.

    Args:
        path (str): Local path of the file.
        source (str, optional): Name used in errors (e.g. the remote path
            the local copy came from). Defaults to ``path``.

    Returns:
        The parsed value (any JSON type; callers check the structure).

    Raises:
        FileNotFoundError: ``path`` does not exist (named by ``open``).
        ValueError: ``"<source>: not UTF-8 text (byte 0: ...)"`` or
            ``"<source>: not valid JSON (line 3, column 7: ...)"``.
    """
    source = source or path
    with open(path, 'rb') as f:
        raw = f.read()
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError as e:
        raise ValueError(f'{source}: not UTF-8 text (byte {e.start}: '
                         f'{e.reason}); a JSON file is expected') from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f'{source}: not valid JSON (line {e.lineno}, '
                         f'column {e.colno}: {e.msg})') from None
    except RecursionError:
        raise ValueError(f'{source}: JSON nested too deeply') from None

"""Error and log messages that list offending items without flooding."""
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

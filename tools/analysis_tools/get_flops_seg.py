#!/usr/bin/env python
"""Parameters and FLOPs of an mmseg config's model (``get_flops.py``
restricted to segmentation configs)."""
from typing import Any, Dict, Optional, Sequence

from mmplugin_transfuse.utils.flops import get_complexity, load_config, task_of


def seg_complexity(config: str,
                   shape: Optional[Sequence[int]] = None,
                   cfg_options: Optional[Dict[str, Any]] = None
                   ) -> Dict[str, Any]:
    """:func:`get_complexity` of a segmentation config."""
    cfg = load_config(config, cfg_options)
    if task_of(cfg) != 'seg':
        raise ValueError(f'{config}: default_scope is {cfg.default_scope!r};'
                         " this tool counts mmseg ('mmseg') models, use "
                         'get_flops.py for any config')
    return get_complexity(config, shape, cfg_options)


if __name__ == '__main__':
    from get_flops import main
    main()

"""The benchmark tools' shared helpers, kept importable under this name
for scripts that add ``tools/benchmark`` to ``sys.path``; they live in
:mod:`mmplugin_transfuse.utils.benchmark`."""
from mmplugin_transfuse.utils.benchmark import *  # noqa: F401,F403
from mmplugin_transfuse.utils.benchmark import (  # noqa: F401
    REPO_ROOT, build_model, count_flops, count_params, flop_analyzer_total,
    in_channels_of, load_config, load_tool, make_inputs, parse_size,
    print_table, random_batch, resolve_config, task_of, write_csv)

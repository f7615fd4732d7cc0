"""``tools/analysis_tools/compile_graphs.py`` counts the graphs dynamo
compiles over batches of changing sizes, and the functions that reach the
recompile limit."""
import pytest
import torch._dynamo
from torch._dynamo.utils import counters

from mmplugin_transfuse.utils.benchmark import load_tool
from tests.test_engine.tiny_models import SMCA, TINY_SMCA

tool = load_tool('analysis_tools/compile_graphs.py')
TINY = dict(TINY_SMCA, **{'model.backbone.depth': 18})


def test_counts_the_graphs_dynamo_builds():
    counters.clear()
    result = tool.count_graphs(SMCA, iters=2, batch=1, min_size=64,
                               max_size=64, mode='tensor', cfg_options=TINY)
    # one shape: the second forward runs the first one's graphs
    assert result['shapes'] == ['64x64', '64x64']
    assert result['graphs'][0] > 0
    assert result['graphs'][1] == result['graphs'][0]
    # dynamo's own count of the graphs it compiled (independent of the
    # tool's backend)
    assert counters['stats']['unique_graphs'] == result['graphs'][0]
    assert result['limit_hits'] == []


def test_names_the_functions_at_the_recompile_limit(monkeypatch):
    monkeypatch.setattr(torch._dynamo.config, 'recompile_limit', 1)
    # padded to 32: two different batch shapes for sides of 40 and 72
    result = tool.count_graphs(
        SMCA, iters=2, batch=1, min_size=40, max_size=72,
        pad_size_divisor=32, dynamic='static', mode='tensor',
        cfg_options=TINY, seed=3)
    assert len(set(result['shapes'])) == 2, result['shapes']
    # the second shape would need a second graph of the model's forward:
    # over the limit, dynamo runs it eagerly and compiles nothing new
    assert result['graphs'][1] == result['graphs'][0]
    assert any(f.startswith("'forward'") for f in result['limit_hits'])


def test_rejects_bad_sizes():
    with pytest.raises(SystemExit):
        tool.parse_args([SMCA, '--min-size', '200', '--max-size', '100'])

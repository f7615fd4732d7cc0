"""utils.messages and utils.grad_checkpoint: the shared one-rule helpers."""
import torch
from torch import nn

from mmplugin_transfuse.utils import first_n_and_more, use_grad_checkpointing


def test_first_n_and_more():
    assert first_n_and_more(['a', 'b'], 3) == "['a', 'b']"
    assert first_n_and_more(['a', 'b', 'c'], 3) == "['a', 'b', 'c']"
    assert first_n_and_more(list('abcde'), 2) == "['a', 'b'] and 3 more"
    assert first_n_and_more((1, 2, 3), 1, sep='\n  ') == '1\n  ... and 2 more'
    assert first_n_and_more(['x', 'y'], 5, sep='; ') == 'x; y'
    assert first_n_and_more([], 3) == '[]'


def test_grad_checkpointing_only_when_gradients_are_kept():
    module = nn.Linear(2, 2)
    module.with_cp = True
    assert use_grad_checkpointing(module)
    with torch.no_grad():
        assert not use_grad_checkpointing(module)
    module.eval()
    assert not use_grad_checkpointing(module)
    module.train()
    module.with_cp = False
    assert not use_grad_checkpointing(module)

"""Checkpoints load with ``weights_only=True`` and malicious pickles are refused."""
import os
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub

import mmplugin_transfuse  # noqa: F401  installs the allow-list


def test_message_hub_state_loads_with_weights_only(tmp_path):
    hub = MessageHub.get_instance('test_safe_ckpt')
    hub.update_scalar('train/loss', 0.5)
    hub.update_scalar('train/loss', np.float64(0.25))
    hub.update_info('iter', 7)
    path = tmp_path / 'ckpt.pth'
    torch.save(
        dict(message_hub=hub.state_dict(),
             meta=dict(seed=np.int64(3), arr=np.arange(3.0))), path)
    ckpt = torch.load(path, weights_only=True)
    restored = ckpt['message_hub']['log_scalars']['train/loss']
    assert restored.mean() == pytest.approx(0.375)
    assert ckpt['message_hub']['runtime_info']['iter'] == 7
    np.testing.assert_array_equal(ckpt['meta']['arr'], [0.0, 1.0, 2.0])


class _Exploit:

    def __reduce__(self):
        return (os.system, ('echo pwned',))


def test_arbitrary_callable_is_refused(tmp_path):
    path = tmp_path / 'evil.pth'
    with open(path, 'wb') as f:
        pickle.dump({'state_dict': _Exploit()}, f, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match='system'):
        torch.load(path, weights_only=True)


class _GetattrCall:
    """getattr is allow-listed; calling what it returns must still fail."""

    def __reduce__(self):
        from mmengine.logging.history_buffer import HistoryBuffer
        return (getattr(HistoryBuffer, 'update'), (None, 1.0))


def test_getattr_result_cannot_be_called(tmp_path):
    path = tmp_path / 'evil2.pth'
    with open(path, 'wb') as f:
        pickle.dump([_GetattrCall()], f, protocol=2)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)

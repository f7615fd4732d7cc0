"""Allow-list for ``torch.load(weights_only=True)`` on mmengine checkpoints.

torch >= 2.6 loads checkpoints with ``weights_only=True`` by default. mmengine
0.10.x checkpoints store the ``MessageHub`` (``HistoryBuffer`` objects and numpy
arrays/scalars) in ``message_hub``, so ``--resume`` fails with
``UnpicklingError: Weights only load failed``. Instead of turning the safe
loader off, the exact types those checkpoints hold are allow-listed with
``torch.serialization.add_safe_globals``; anything else (an arbitrary callable
in a malicious pickle) is still refused.
"""
from typing import Any, List

import numpy as np
import torch


def _numpy_safe_types() -> List[Any]:
    """numpy classes and reconstruct functions a pickled array/scalar needs."""
    types: List[Any] = [np.ndarray, np.dtype]
    # numpy 2 moved ``numpy.core`` to ``numpy._core``; pickles name whichever
    # module the writer had, so allow-list what this numpy resolves.
    try:
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct, scalar
    types += [_reconstruct, scalar]
    # Concrete dtype classes (numpy >= 1.25 pickles ``np.dtypes.Float64DType``).
    dtypes_mod = getattr(np, 'dtypes', None)
    if dtypes_mod is not None:
        types += [
            getattr(dtypes_mod, name) for name in dir(dtypes_mod)
            if name.endswith('DType')
        ]
    # Scalar types (np.float64, np.int64, np.bool_ ...) appear in log buffers.
    types += [
        np.float16, np.float32, np.float64, np.int8, np.int16, np.int32,
        np.int64, np.uint8, np.uint16, np.uint32, np.uint64, np.bool_
    ]
    return types


def checkpoint_safe_globals() -> List[Any]:
    """Globals that an mmengine training checkpoint holds besides tensors.

    - ``HistoryBuffer`` and numpy arrays/scalars/dtypes (the message hub);
    - ``_codecs.encode`` (how numpy arrays pickle their raw bytes);
    - ``getattr``: torch pickles with protocol 2, which stores the
      ``HistoryBuffer.min/max/current/mean`` functions of the buffers'
      statistics table as ``getattr(HistoryBuffer, 'min')``. Allowing it does
      not open code execution: the weights-only unpickler still refuses to
      *call* anything that is not itself allow-listed (REDUCE) and to BUILD
      instances of types that are not, so ``getattr`` can only look up
      attributes that then sit inert in the loaded dict.
    """
    import _codecs

    from mmengine.logging.history_buffer import HistoryBuffer
    return [HistoryBuffer, getattr, _codecs.encode] + _numpy_safe_types()


def register_checkpoint_safe_globals() -> bool:
    """Allow-list mmengine/numpy checkpoint types for ``weights_only`` loads.

    Returns:
        bool: False when torch has no ``add_safe_globals`` (torch < 2.4, which
        does not load with ``weights_only=True`` by default anyway).
    """
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is None:
        return False
    add(checkpoint_safe_globals())
    return True

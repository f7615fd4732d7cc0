"""Helpers shared by the metrics: label maps, class selection, tables."""
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.logging import MMLogger, print_log
from prettytable import PrettyTable


def label_map(data_sample: dict, key: str) -> np.ndarray:
    """``(H, W)`` int64 numpy label map of ``pred_sem_seg``/``gt_sem_seg``.

    For binary models (``out_channels=1``) mmseg already thresholds the
    sigmoid at the head's ``threshold`` to fill ``pred_sem_seg``; for
    multi-class models it holds the argmax, so the metrics work for both.
    """
    if key not in data_sample:
        name = data_sample.get('img_path', '<unknown image>')
        raise KeyError(f'sample {name} has no {key!r}')
    data = data_sample[key]['data']
    if hasattr(data, 'detach'):
        data = data.detach().cpu().numpy()
    data = np.asarray(data)
    if data.ndim == 3 and data.shape[0] == 1:
        data = data[0]
    if data.ndim != 2:
        raise ValueError(f'{key} must be (1, H, W) or (H, W), '
                         f'got {data.shape}')
    return data.astype(np.int64)


def resolve_classes(class_indices: Optional[Sequence[int]],
                    classes: Sequence[str]) -> List[int]:
    """Evaluated class ids: the given ones, or every class but 0."""
    num = len(classes)
    if class_indices is None:
        ids = list(range(1, num)) if num > 1 else [0]
    else:
        ids = [int(c) for c in class_indices]
    bad = [c for c in ids if not 0 <= c < num]
    if bad:
        raise ValueError(f'class_indices {bad} are outside the dataset '
                         f'classes {tuple(classes)}')
    return ids


def metainfo_value(data_sample: dict, key: str, hint: str):
    """Read ``data_sample[key]`` with an error that says how to add it."""
    if key not in data_sample:
        name = data_sample.get('img_path', '<unknown image>')
        raise KeyError(
            f'sample {name} has no {key!r} in its metainfo: {hint} and list '
            f"{key!r} in PackSegInputs(meta_keys=...)")
    return data_sample[key]


def safe_nanmean(values, axis=None):
    """``np.nanmean`` that returns NaN for all-NaN input without warning."""
    values = np.asarray(values, dtype=np.float64)
    finite = ~np.isnan(values)
    count = finite.sum(axis=axis)
    total = np.where(finite, values, 0.0).sum(axis=axis)
    with np.errstate(invalid='ignore', divide='ignore'):
        return total / count


def log_table(title: str, header: Sequence[str], rows: Sequence[Sequence],
              digits: int = 4) -> str:
    """Print a PrettyTable through the current mmengine logger."""
    table = PrettyTable()
    table.field_names = list(header)
    for row in rows:
        table.add_row([
            f'{v:.{digits}f}' if isinstance(v, (float, np.floating)) else v
            for v in row
        ])
    text = table.get_string()
    print_log(f'{title}:\n' + text, logger=MMLogger.get_current_instance())
    return text


def flat_metrics(prefix: str, values: Dict[str, float]) -> Dict[str, float]:
    """Prefix keys with ``'<prefix>/'`` (no prefix when it is empty)."""
    if not prefix:
        return dict(values)
    return {f'{prefix}/{k}': v for k, v in values.items()}

"""Per-class Dice per 3-D volume, from 2-D slice predictions."""
from collections import OrderedDict
from typing import Dict, Optional, Sequence

import numpy as np
from mmseg.registry import METRICS

from .functional import confusion_counts, dice_from_counts
from .medical_metric import MedicalSegMetric
from .metric_utils import (label_map, log_table, metainfo_value,
                           safe_nanmean)


@METRICS.register_module()
class PerVolumeDiceMetric(MedicalSegMetric):
    """Dice of each class over each whole volume, then means.

    A 2-D model predicts slices; the prostate results of TransFuse (paper
    Table 4, PZ / TZ / mean) and of nnU-Net are Dice scores of the 3-D
    volumes. The metric therefore sums each class's intersection and areas
    over all slices of a volume (grouped by the ``volume_key`` metainfo
    that :class:`ProstateSliceDataset` adds), computes the volume's Dice per
    class, and reports:

    - ``Dice.<class>``: mean over volumes of that class's Dice;
    - ``mDice``: mean of those over the evaluated classes (Table 4 "mean");
    - ``num_volumes``; and logs a table (one row per volume when
      ``print_volumes``).

    Values are fractions in [0, 1]. A class absent from both the predicted
    and the true volume scores ``empty_score`` (default 1.0); ``None``
    leaves it out of the mean. One of the two empty scores 0.

    Args:
        volume_key (str): Metainfo key of the volume id. Defaults to
            ``'volume_id'``.
        empty_score (float, optional): See above. Defaults to 1.0.
        print_volumes (bool): Log one table row per volume. Defaults to
            True.
        **kwargs: :class:`MedicalSegMetric`'s ``class_indices`` (default
            None: every class except 0), ``ignore_index`` (default 255;
            excluded), ``collect_device`` and ``prefix``.
    """

    def __init__(self,
                 volume_key: str = 'volume_id',
                 empty_score: Optional[float] = 1.0,
                 print_volumes: bool = True,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.volume_key = volume_key
        self.empty_score = empty_score
        self.print_volumes = print_volumes

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Store each slice's volume id and per-class counts."""
        class_ids = self._class_ids()
        for sample in data_samples:
            volume = metainfo_value(
                sample, self.volume_key,
                'use a dataset that stores the volume id of each slice '
                '(e.g. ProstateSliceDataset)')
            counts = confusion_counts(
                label_map(sample, 'pred_sem_seg'),
                label_map(sample, 'gt_sem_seg'), class_ids, self.ignore_index)
            self.results.append(dict(volume=str(volume), counts=counts))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Sum slice counts per volume, Dice per volume, then means."""
        volumes: Dict[str, np.ndarray] = OrderedDict()
        for r in results:
            if r['volume'] in volumes:
                volumes[r['volume']] = volumes[r['volume']] + r['counts']
            else:
                volumes[r['volume']] = r['counts'].copy()
        names = self._class_names()
        dice = dice_from_counts(
            np.stack(list(volumes.values())), self.empty_score)  # (V, K)
        per_class = safe_nanmean(dice, 0)
        metrics: Dict[str, float] = OrderedDict()
        metrics['mDice'] = float(safe_nanmean(per_class))
        for name, v in zip(names, per_class):
            metrics[f'Dice.{name}'] = float(v)
        metrics['num_volumes'] = len(volumes)

        rows = []
        if self.print_volumes:
            rows = [[vol] + [float(d) for d in row] + [float(
                safe_nanmean(row))] for vol, row in zip(volumes, dice)]
        rows.append(['mean'] + [float(v) for v in per_class] +
                    [metrics['mDice']])
        log_table(f'per-volume Dice ({len(volumes)} volumes)',
                  ['volume'] + names + ['mean'], rows)
        return metrics

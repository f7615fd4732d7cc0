"""Per-image Dice / IoU / accuracy, averaged over images (PraNet protocol)."""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmseg.registry import METRICS

from .functional import confusion_counts, dice_from_counts, iou_from_counts
from .medical_metric import MedicalSegMetric
from .metric_utils import (flat_metrics, label_map, log_table,
                           safe_nanmean)


@METRICS.register_module()
class PerImageDiceMetric(MedicalSegMetric):
    """Dice, IoU and pixel accuracy per image, then the mean over images.

    This is how PraNet and TransFuse report polyp mDice/mIoU (paper
    Table 1) and ISIC Jaccard/Dice/accuracy (Table 2): the reference code
    thresholds the sigmoid at 0.5 and computes each figure per image before
    averaging over images. mmseg's ``IoUMetric`` instead sums intersections
    and unions over the whole set (a "dataset-level" figure), which weights
    large objects more; it is reported here too (``dataset_Dice``,
    ``dataset_IoU``).

    The metric reads ``pred_sem_seg`` (already thresholded at the head's
    ``threshold`` for a one-channel binary model, argmax otherwise), so it
    serves binary and multi-class models alike.

    Outputs, as fractions in [0, 1] (like the paper, not mmseg's
    percentages), for the evaluated classes (default: all but background):

    - ``mDice``, ``mIoU``: mean over images of the per-image value, itself
      the mean over the evaluated classes; with several classes also
      ``mDice.<class>``/``mIoU.<class>`` (mean over images per class);
    - ``mAcc``: mean over images of the per-image pixel accuracy (all
      classes, ignored pixels left out), the ISIC "accuracy";
    - ``dataset_Dice``, ``dataset_IoU``: from counts summed over the set,
      averaged over the evaluated classes;
    - with ``group_key`` (e.g. ``'subset'``): the same keys per group,
      prefixed ``'<group>/'``, and a table with one row per group (PraNet
      test sets: Kvasir, CVC-ClinicDB, ...) plus ``all`` (every image
      pooled). Unprefixed keys always cover all images.

    Empty masks: a class absent from both prediction and ground truth of an
    image scores ``empty_score`` (default 1.0, the limit of the reference
    code's smoothed formula); with ``empty_score=None`` it is left out of
    that image's class mean (and an image with no scored class out of the
    image mean). One of the two empty scores 0.

    Args:
        metric_names (Sequence[str]): Any of ``'mDice'``, ``'mIoU'``,
            ``'mAcc'``. Defaults to ('mDice', 'mIoU'). (Not ``metrics``: in
            an evaluator config that key makes mmengine build a custom
            ``Evaluator`` instead of this metric.)
        empty_score (float, optional): See above. Defaults to 1.0.
        group_key (str, optional): Metainfo key whose value names the group
            (test set) of a sample. Defaults to ``'subset'``; samples
            without it form no group.
        dataset_level (bool): Also report dataset-level Dice/IoU.
            Defaults to True.
        **kwargs: :class:`MedicalSegMetric`'s ``class_indices`` (default
            None: every class except 0), ``ignore_index`` (default 255;
            excluded from every count), ``collect_device`` and ``prefix``.
    """

    ALLOWED = ('mDice', 'mIoU', 'mAcc')

    def __init__(self,
                 metric_names: Sequence[str] = ('mDice', 'mIoU'),
                 empty_score: Optional[float] = 1.0,
                 group_key: Optional[str] = 'subset',
                 dataset_level: bool = True,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        names = [metric_names] if isinstance(metric_names, str) else list(
            metric_names)
        unknown = [m for m in names if m not in self.ALLOWED]
        if unknown or not names:
            raise ValueError(f'metric_names {unknown or names} not '
                             f'supported; choose from {self.ALLOWED}')
        self.metric_names = names
        self.empty_score = empty_score
        self.group_key = group_key
        self.dataset_level = dataset_level

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Store per-image class counts, pixel accuracy and group."""
        class_ids = self._class_ids()
        for sample in data_samples:
            pred = label_map(sample, 'pred_sem_seg')
            gt = label_map(sample, 'gt_sem_seg')
            counts = confusion_counts(pred, gt, class_ids, self.ignore_index)
            valid = gt != self.ignore_index
            self.results.append(
                dict(
                    group=sample.get(self.group_key)
                    if self.group_key else None,
                    counts=counts,
                    correct=int(np.count_nonzero((pred == gt) & valid)),
                    valid=int(np.count_nonzero(valid))))

    def _summarise(self, results: List[dict]) -> Dict[str, float]:
        counts = np.stack([r['counts'] for r in results])  # (N, K, 3)
        out: Dict[str, float] = OrderedDict()
        per_class = {
            'mDice': dice_from_counts(counts, self.empty_score),
            'mIoU': iou_from_counts(counts, self.empty_score)
        }  # each (N, K)
        names = self._class_names()
        for key in ('mDice', 'mIoU'):
            if key not in self.metric_names:
                continue
            out[key] = float(safe_nanmean(safe_nanmean(per_class[key], 1)))
            if len(names) > 1:
                per_cls_mean = safe_nanmean(per_class[key], 0)
                for name, v in zip(names, per_cls_mean):
                    out[f'{key}.{name}'] = float(v)
        if 'mAcc' in self.metric_names:
            acc = [
                r['correct'] / r['valid'] if r['valid'] else np.nan
                for r in results
            ]
            out['mAcc'] = float(safe_nanmean(acc))
        if self.dataset_level:
            total = counts.sum(0)  # (K, 3)
            out['dataset_Dice'] = float(
                safe_nanmean(dice_from_counts(total, self.empty_score)))
            out['dataset_IoU'] = float(
                safe_nanmean(iou_from_counts(total, self.empty_score)))
        out['num_images'] = len(results)
        return out

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Overall and per-group figures; logs a per-group table."""
        groups: Dict[str, List[dict]] = OrderedDict()
        for r in results:
            if r['group'] is not None:
                groups.setdefault(str(r['group']), []).append(r)
        overall = self._summarise(results)
        summaries = OrderedDict(
            (name, self._summarise(rs)) for name, rs in groups.items())
        metrics: Dict[str, float] = OrderedDict(overall)
        for name, summary in summaries.items():
            metrics.update(flat_metrics(name, summary))

        columns = [k for k in overall if k != 'num_images']
        rows = [[name, s['num_images']] + [s[k] for k in columns]
                for name, s in summaries.items()]
        rows.append(['all', overall['num_images']] +
                    [overall[k] for k in columns])
        log_table('per-image segmentation metrics (fractions)',
                  ['set', 'images'] + columns, rows)
        return metrics

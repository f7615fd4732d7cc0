"""Hausdorff distance and average surface distance in millimetres."""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmseg.registry import METRICS

from .functional import (BOTH_EMPTY, EMPTY_GT, EMPTY_PRED, fov_diagonal,
                         hd_key, surface_distance_measures)
from .medical_metric import MedicalSegMetric
from .metric_utils import (label_map, log_table, metainfo_value,
                           safe_nanmean)


@METRICS.register_module()
class SurfaceDistanceMetric(MedicalSegMetric):
    """Per-class Hausdorff distances and ASD, in mm, per image or volume.

    TransFuse reports HD and ASD in mm for the hip X-rays (paper Table 3);
    the same measures are standard for prostate MRI. For each evaluated
    class the binary masks of prediction and ground truth are compared
    through their surfaces (see :func:`surface_distance_measures`):

    - ``HD{p}`` for each of ``percentiles`` (``HD95``; ``HDmax`` for 100,
      the classic Hausdorff distance);
    - ``ASD``: average symmetric surface distance.

    Spacing comes from each sample's ``spacing_key`` metainfo, in array
    axis order (``(row, col)`` for images; ``(row, col, slice)`` for the
    slices of :class:`ProstateSliceDataset`), else from ``default_spacing``;
    without either the metric stops with an error instead of silently
    reporting pixels as millimetres.

    Two modes:

    - ``volume_key=None`` (default): each 2-D image is one object;
    - ``volume_key='volume_id'``: slices are stacked along ``slice_idx``
      into 3-D volumes (spacing ``(slice, row, col)``) and measured in 3-D.

    **Empty masks** (per image/volume and class), always counted in
    ``num_both_empty``, ``num_empty_pred`` and ``num_empty_gt``:

    - both empty: every distance is 0 (the prediction is exactly right);
    - exactly one empty: no surface to measure to, so the distance is
      undefined. ``empty_policy='nan'`` (default) leaves the case out of the
      means (check the counts: a model that predicts nothing is not
      rewarded, it is reported); ``empty_policy='diagonal'`` scores it as
      the diagonal of the field of view in mm (a finite worst case, so the
      means stay comparable between models).

    Outputs: ``HD95``, ``HDmax``, ``ASD`` (means over the evaluated
    classes of the per-class means over images/volumes), per class
    ``HD95.<class>`` etc., and the three counts (summed over classes).

    Args:
        percentiles (Sequence[float]): Hausdorff percentiles in (0, 100].
            Defaults to (95, 100).
        volume_key (str, optional): Metainfo key grouping slices into
            volumes. Defaults to None (2-D images).
        slice_key (str): Metainfo key ordering slices. Defaults to
            ``'slice_idx'``.
        spacing_key (str): Metainfo key of the spacing. Defaults to
            ``'spacing'``.
        default_spacing (Sequence[float], optional): Spacing (mm) for
            samples without one. Defaults to None.
        empty_policy (str): ``'nan'`` or ``'diagonal'``. Defaults to 'nan'.
        **kwargs: :class:`MedicalSegMetric`'s ``class_indices`` (default
            None: every class except 0), ``ignore_index`` (default 255;
            treated as background in both masks), ``collect_device`` and ``prefix``.
    """

    POLICIES = ('nan', 'diagonal')

    def __init__(self,
                 percentiles: Sequence[float] = (95, 100),
                 volume_key: Optional[str] = None,
                 slice_key: str = 'slice_idx',
                 spacing_key: str = 'spacing',
                 default_spacing: Optional[Sequence[float]] = None,
                 empty_policy: str = 'nan',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if empty_policy not in self.POLICIES:
            raise ValueError(f'empty_policy must be one of {self.POLICIES}, '
                             f'got {empty_policy!r}')
        percentiles = [float(p) for p in percentiles]
        if not percentiles or any(not 0 < p <= 100 for p in percentiles):
            raise ValueError(
                f'percentiles must lie in (0, 100], got {percentiles}')
        self.percentiles = percentiles
        self.volume_key = volume_key
        self.slice_key = slice_key
        self.spacing_key = spacing_key
        self.default_spacing = default_spacing
        self.empty_policy = empty_policy
        self.keys = [hd_key(p) for p in percentiles] + ['ASD']

    def _spacing(self, sample: dict, ndim: int) -> List[float]:
        spacing = sample.get(self.spacing_key, self.default_spacing)
        if spacing is None:
            name = sample.get('img_path', '<unknown image>')
            raise KeyError(
                f'sample {name} has no {self.spacing_key!r} in its metainfo '
                'and SurfaceDistanceMetric has no default_spacing: list '
                f"{self.spacing_key!r} in PackSegInputs(meta_keys=...) or "
                'set default_spacing (mm)')
        spacing = [float(s) for s in spacing]
        if len(spacing) < ndim:
            raise ValueError(f'spacing {spacing} of {sample.get("img_path")}'
                             f' has fewer than {ndim} entries')
        return spacing

    def _measure(self, pred: np.ndarray, gt: np.ndarray,
                 spacing: Sequence[float]) -> dict:
        """Per-class distances ``(K, len(keys))`` and cases of one object."""
        class_ids = self._class_ids()
        empty_value = (
            fov_diagonal(pred.shape, spacing)
            if self.empty_policy == 'diagonal' else float('nan'))
        values = np.zeros((len(class_ids), len(self.keys)))
        cases = []
        for k, c in enumerate(class_ids):
            out, case = surface_distance_measures(pred == c, gt == c,
                                                  spacing, self.percentiles,
                                                  empty_value)
            values[k] = [out[key] for key in self.keys]
            cases.append(case)
        return dict(values=values, cases=cases)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Measure 2-D images now; keep slices of volumes for later."""
        for sample in data_samples:
            pred = label_map(sample, 'pred_sem_seg')
            gt = label_map(sample, 'gt_sem_seg')
            if pred.shape != gt.shape:
                raise ValueError(
                    f'{sample.get("img_path")}: prediction {pred.shape} and '
                    f'ground truth {gt.shape} differ in shape')
            ignored = gt == self.ignore_index
            gt[ignored] = 0
            pred[ignored] = 0
            if self.volume_key is None:
                self.results.append(
                    self._measure(pred, gt, self._spacing(sample, 2)[:2]))
            else:
                self.results.append(
                    dict(
                        volume=str(
                            metainfo_value(
                                sample, self.volume_key,
                                'use a dataset that stores the volume id')),
                        slice_idx=int(
                            metainfo_value(
                                sample, self.slice_key,
                                'use a dataset that stores slice indices')),
                        spacing=self._spacing(sample, 3)[:3],
                        pred=pred.astype(np.uint8),
                        gt=gt.astype(np.uint8)))

    def _volumes(self, results: list) -> List[dict]:
        """Stack the stored slices of each volume and measure it in 3-D."""
        grouped: Dict[str, List[dict]] = OrderedDict()
        for r in results:
            grouped.setdefault(r['volume'], []).append(r)
        measured = []
        for volume, slices in grouped.items():
            slices = sorted(slices, key=lambda s: s['slice_idx'])
            idx = [s['slice_idx'] for s in slices]
            if len(set(idx)) != len(idx):
                raise ValueError(f'volume {volume} has repeated slices {idx}')
            row, col, depth = slices[0]['spacing']
            pred = np.stack([s['pred'] for s in slices])  # (D, H, W)
            gt = np.stack([s['gt'] for s in slices])
            measured.append(self._measure(pred, gt, (depth, row, col)))
        return measured

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Per-class means over images/volumes, counts and a table."""
        if self.volume_key is not None:
            results = self._volumes(results)
        names = self._class_names()
        values = np.stack([r['values'] for r in results])  # (N, K, M)
        cases = np.array([r['cases'] for r in results])  # (N, K)
        per_class = safe_nanmean(values, 0)  # (K, M)
        metrics: Dict[str, float] = OrderedDict()
        for m, key in enumerate(self.keys):
            metrics[key] = float(safe_nanmean(per_class[:, m]))
        for k, name in enumerate(names):
            for m, key in enumerate(self.keys):
                metrics[f'{key}.{name}'] = float(per_class[k, m])
        counts = {
            case: (cases == case).sum(0)
            for case in (BOTH_EMPTY, EMPTY_PRED, EMPTY_GT)
        }
        for case, per_cls in counts.items():
            metrics[f'num_{case}'] = int(per_cls.sum())

        unit = 'volumes' if self.volume_key is not None else 'images'
        rows = [[name] + [float(v) for v in per_class[k]] +
                [int(counts[c][k]) for c in counts]
                for k, name in enumerate(names)]
        rows.append(['mean'] + [metrics[k] for k in self.keys] +
                    [metrics[f'num_{c}'] for c in counts])
        log_table(
            f'surface distances in mm over {len(results)} {unit} '
            f'(one-empty cases: {self.empty_policy})',
            ['class'] + self.keys + [f'num_{c}' for c in counts], rows)
        return metrics

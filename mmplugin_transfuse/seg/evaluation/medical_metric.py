"""Shared base of the medical segmentation metrics."""
from typing import List, Optional, Sequence

from mmengine.evaluator import BaseMetric

from .metric_utils import resolve_classes


class MedicalSegMetric(BaseMetric):
    """What :class:`PerImageDiceMetric`, :class:`PerVolumeDiceMetric` and
    :class:`SurfaceDistanceMetric` share: the evaluated classes and the
    ignored label.

    Args:
        class_indices (Sequence[int], optional): Classes to evaluate;
            None: every class but 0 (background), or class 0 alone for a
            one-class dataset.
        ignore_index (int): Label excluded from the evaluation.
        collect_device (str): ``'cpu'`` or ``'gpu'``.
        prefix (str, optional): Evaluator prefix.
    """

    def __init__(self,
                 class_indices: Optional[Sequence[int]] = None,
                 ignore_index: int = 255,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.class_indices = class_indices
        self.ignore_index = ignore_index

    def _class_ids(self) -> List[int]:
        """Evaluated class ids, checked against ``dataset_meta['classes']``."""
        return resolve_classes(self.class_indices,
                               self.dataset_meta['classes'])

    def _class_names(self) -> List[str]:
        """Names of :meth:`_class_ids`, in the same order."""
        return [self.dataset_meta['classes'][c] for c in self._class_ids()]

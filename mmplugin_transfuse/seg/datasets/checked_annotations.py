"""Segmentation mask loading that checks the mask against its image."""
from typing import Optional

import mmcv
import mmengine.fileio as fileio
import numpy as np
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS

from mmplugin_transfuse.utils import check_image_bytes, first_n_and_more
from .transforms import BinarizeMask

MAX_LISTED_VALUES = 8


@TRANSFORMS.register_module()
class CheckedLoadAnnotations(LoadAnnotations):
    """mmseg ``LoadAnnotations`` that refuses masks a model must not see.

    Same arguments, ``reduce_zero_label`` and ``label_map`` rules as
    :class:`mmseg.datasets.transforms.LoadAnnotations`, but the mask file is
    read once and decoded at the depth it was saved: mmseg casts the
    decoded mask to uint8, so a 16-bit PNG holding id 300 silently trains
    as class 44; here the values are checked first and only then cast.
    Every error names the mask file (and its image where both are
    involved):

    - missing, empty (0 bytes), truncated JPEG/PNG, or undecodable mask
      file: ``FileNotFoundError`` / ``ValueError``;
    - mask height/width differs from its image's (``results['ori_shape']``,
      the size the image loader read, so the check also holds when the
      mask is loaded after ``Resize`` in a test pipeline): ``ValueError``
      naming both files and both sizes;
    - values that are not class ids of the dataset, i.e. not in
      ``0 .. num_classes - 1`` and not ``ignore_index``, at the mask's own
      depth (8 or 16 bit): ``ValueError`` listing the bad values and the
      expected range.

    Binary masks stored as 0/255 (raw Kvasir-SEG, ISIC, the synthetic polyp
    set; JPEG ones hold noise such as 3 or 250 near the edges) are mapped to
    0/1 first when ``binarize_threshold`` is set, with the rule of
    :class:`BinarizeMask`: pixels ``>= binarize_threshold`` (128, the
    midpoint of 0/255, in the configs) become 1; a mask already holding
    only 0/1 is kept; a colour-saved mask is averaged over its channels.
    Without ``binarize_threshold`` the mask must already hold class ids,
    so a 0/255 mask is an error: a noisy one holds values that are no
    class id; a clean one holds 0 and 255 only, and as 255 is the ignore
    index it would train and evaluate on background alone (mmseg's
    silent IoU 0), so a mask holding nothing but 0 and ``ignore_index``
    is refused too, unless ``allow_ignore_only`` (a dataset whose images
    without foreground have ignored regions).

    A sample without ``seg_map_path`` (a bare image at inference) passes
    through unchanged: ``mmseg.apis.inference_model`` and
    ``tools/eval_prostate_volumes.py`` drop only a step named exactly
    ``LoadAnnotations`` from the test pipeline. The datasets of this package
    always set ``seg_map_path`` when ``data_prefix`` has one, and a training
    or validation sample without a mask fails in the loss / metric anyway.

    Args:
        binarize_threshold (int, optional): Binarise the mask at this
            threshold before the checks. Defaults to None (the mask holds
            class ids).
        num_classes (int, optional): Number of classes. Defaults to None:
            ``results['num_classes']``, which the datasets of this package
            set from their ``classes``.
        ignore_index (int): The one value allowed besides class ids.
            Defaults to 255 (mmseg's ignore index).
        allow_ignore_only (bool): Accept a mask whose only values are 0 and
            ``ignore_index``. Defaults to False (such a mask is almost
            always a 0/255 mask of a binary task). Masks after
            ``reduce_zero_label`` or a ``label_map`` are not checked for it.
        reduce_zero_label, backend_args, imdecode_backend: As for
            :class:`mmseg.datasets.transforms.LoadAnnotations`.

    Required keys: ``seg_map_path``, ``ori_shape`` (set by the image
    loader, which must come first), ``img_path`` (for messages),
    ``num_classes`` (unless given). Added keys: ``gt_seg_map`` (uint8
    ``(H, W)``; a dataset with more than 255 classes keeps the ids in a
    wider integer type), ``seg_fields``.
    """

    def __init__(self,
                 binarize_threshold: Optional[int] = None,
                 num_classes: Optional[int] = None,
                 ignore_index: int = 255,
                 reduce_zero_label: Optional[bool] = None,
                 backend_args: Optional[dict] = None,
                 imdecode_backend: str = 'pillow',
                 allow_ignore_only: bool = False) -> None:
        super().__init__(
            reduce_zero_label=reduce_zero_label,
            backend_args=backend_args,
            imdecode_backend=imdecode_backend)
        self.binarize = (None if binarize_threshold is None else
                         BinarizeMask(threshold=binarize_threshold))
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.allow_ignore_only = allow_ignore_only

    def transform(self, results: dict) -> dict:
        if 'seg_map_path' not in results:
            return results
        return super().transform(results)

    def _load_seg_map(self, results: dict) -> None:
        path = results['seg_map_path']
        img_path = results.get('img_path', '<unknown image>')
        seg = self._read_mask(path, img_path)
        self._check_size(seg, results, path, img_path)
        seg = self._map_labels(seg, results, path)
        if self.binarize is not None:
            results['gt_seg_map'] = seg
            seg = self.binarize(results)['gt_seg_map']
        elif seg.ndim != 2:
            raise ValueError(
                f'mask {path} has shape {seg.shape}; expected one channel of'
                ' class ids (set binarize_threshold for a 0/255 mask saved '
                'in colour)')
        self._check_values(seg, results, path)
        # every value is now a class id or the ignore index, so the cast
        # to mmseg's uint8 convention loses nothing (more than 255 classes
        # keep the wider type)
        if seg.dtype != np.uint8 and int(seg.max(initial=0)) <= 255:
            seg = seg.astype(np.uint8)
        results['gt_seg_map'] = seg
        results['seg_fields'].append('gt_seg_map')

    def _read_mask(self, path: str, img_path: str) -> np.ndarray:
        """Read and decode the mask file once, at the depth it was saved.

        mmseg's loader casts the decoded array with ``astype(np.uint8)``, so
        a 16-bit PNG id 300 silently becomes 44 (300 mod 256); here a
        16-bit mask stays ``uint16`` until its values are checked.
        """
        try:
            data = fileio.get(path, backend_args=self.backend_args)
        except FileNotFoundError as e:
            raise FileNotFoundError(
                f'mask file not found: {path} (mask of image {img_path})'
            ) from e
        check_image_bytes(data, path, what='mask')
        try:
            seg = mmcv.imfrombytes(
                data, flag='unchanged', backend=self.imdecode_backend)
        # what Pillow / OpenCV raise on bad bytes; none of them names the
        # file (OpenCV returns None instead)
        except (OSError, SyntaxError, ValueError) as e:
            raise ValueError(f'cannot decode mask file ({type(e).__name__}:'
                             f' {e}): {path}') from e
        if seg is None:
            raise ValueError(f'cannot decode mask file ({len(data)} bytes '
                             f'that the {self.imdecode_backend} decoder '
                             f'rejects): {path}')
        if seg.ndim == 3 and seg.shape[2] == 1:
            seg = seg[..., 0]
        return seg

    def _map_labels(self, seg: np.ndarray, results: dict,
                    path: str) -> np.ndarray:
        """mmseg's ``reduce_zero_label`` and ``label_map``, at any depth.

        Same rules as :meth:`mmseg.datasets.transforms.LoadAnnotations.
        _load_seg_map`: with ``reduce_zero_label`` 0 and 255 become 255
        and every other id ``v`` becomes ``v - 1``; then ``label_map``
        replaces old ids by new ones (read from an unmodified copy).
        """
        if self.reduce_zero_label is None:
            self.reduce_zero_label = results['reduce_zero_label']
        if self.reduce_zero_label != results['reduce_zero_label']:
            raise ValueError(
                f'CheckedLoadAnnotations(reduce_zero_label='
                f'{self.reduce_zero_label}) but the dataset of {path} has '
                f'reduce_zero_label={results["reduce_zero_label"]}: set it '
                'on the dataset only')
        label_map = results.get('label_map', None)
        if not self.reduce_zero_label and label_map is None:
            return seg
        seg = seg.astype(np.int64)  # no wrap-around below 0
        if self.reduce_zero_label:
            reduced = seg - 1
            reduced[(seg == 0) | (seg == 255)] = 255
            seg = reduced
        if label_map is not None:
            original = seg.copy()
            for old_id, new_id in label_map.items():
                seg[original == old_id] = new_id
        return seg

    @staticmethod
    def _check_size(seg: np.ndarray, results: dict, path: str,
                    img_path: str) -> None:
        if 'ori_shape' not in results:
            raise KeyError(
                f'CheckedLoadAnnotations needs results["ori_shape"] to check '
                f'the size of {path}: load the image first')
        img_hw = tuple(results['ori_shape'][:2])
        if tuple(seg.shape[:2]) != img_hw:
            raise ValueError(
                f'mask {path} is {seg.shape[0]}x{seg.shape[1]} (HxW) but '
                f'its image {img_path} is {img_hw[0]}x{img_hw[1]}')

    def _check_values(self, seg: np.ndarray, results: dict,
                      path: str) -> None:
        num_classes = self.num_classes or results.get('num_classes')
        if not num_classes:
            raise KeyError(
                'CheckedLoadAnnotations needs num_classes (argument or '
                f'results["num_classes"]) to check the values of {path}')
        if seg.dtype in (np.uint8, np.uint16):  # at most 65536 bins
            values = np.flatnonzero(np.bincount(seg.ravel()))
        else:
            values = np.unique(seg)
        bad = [
            int(v) for v in values
            if (v < 0 or v >= num_classes) and v != self.ignore_index
        ]
        if bad:
            looks_0_255 = (num_classes == 2 and self.binarize is None
                           and max(bad) >= 128)
            hint = (' (a 0/255 mask: set binarize_threshold=128)'
                    if looks_0_255 else '')
            raise ValueError(
                f'mask {path} holds values '
                f'{first_n_and_more(bad, MAX_LISTED_VALUES)} outside the '
                f'dataset\'s class ids 0..{num_classes - 1} (or the ignore '
                f'index {self.ignore_index}){hint}')
        remapped = self.reduce_zero_label or results.get('label_map')
        if (not self.allow_ignore_only and not remapped
                and self.ignore_index in values
                and set(int(v) for v in values) <= {0, self.ignore_index}):
            hint = (' A 0/255 binary mask: set binarize_threshold=128.'
                    if num_classes == 2 and self.binarize is None else '')
            raise ValueError(
                f'mask {path} holds only 0 and {self.ignore_index} (the '
                'ignore index): no pixel of a class other than background '
                f'would be trained or evaluated.{hint} Masks hold class ids '
                f'0..{num_classes - 1}; if {self.ignore_index} marks ignored '
                'pixels of an image without foreground, set '
                'CheckedLoadAnnotations(allow_ignore_only=True)')

    def __repr__(self) -> str:
        threshold = None if self.binarize is None else self.binarize.threshold
        return (f'{self.__class__.__name__}(binarize_threshold={threshold}, '
                f'num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index}, '
                f'reduce_zero_label={self.reduce_zero_label}, '
                f"imdecode_backend='{self.imdecode_backend}')")

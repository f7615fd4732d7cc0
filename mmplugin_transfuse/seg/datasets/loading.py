"""Loading of multi-modal slices (one grey image per modality)."""
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from mmplugin_transfuse.utils.image_checks import read_image_file


@TRANSFORMS.register_module()
class LoadMultiModalSliceFromFiles(BaseTransform):
    """Stack chosen modalities of a slice into one ``(H, W, C)`` image.

    The prostate converter saves each MR modality of a slice as its own
    8-bit grey PNG, ``<name>_0000.png`` (T2), ``<name>_0001.png`` (ADC)
    (``results['modality_paths']``, in ``dataset.json`` order).
    ``channels`` picks which modality fills each output channel, so the
    config chooses the input: the default ``(0, 1, 0)`` feeds T2/ADC/T2 to
    a 3-channel (ImageNet) stem and is symmetric, so ``bgr_to_rgb`` in the
    data preprocessor does not change it; ``(0, 0, 0)`` is T2 only;
    ``(0, 1)`` needs a 2-channel stem.

    The step works in two places:

    - first in a pipeline: it reads every modality it needs from
      ``modality_paths``;
    - after a stock ``LoadImageFromFile(color_type='grayscale')``, which
      read modality 0 (``img_path``): it reads only the other modalities.
      Test pipelines are written this way because mmseg's
      ``MMSegInferencer`` (and ``mmseg.apis.inference_model``) find the
      step named ``LoadImageFromFile`` and swap it for their loader of a
      bare image. For such an image (no ``modality_paths``) this step takes

      * an ``(H, W, len(channels))`` array as the model's input as it is
        (the modalities already stacked in the order of ``channels``);
      * a grey image read from a file named ``<name>`` +
        ``modality_suffix.format(0)`` (``_0000.png``), with the other
        modalities read from the files next to it (``<name>_0001.png``).

    Required keys: ``modality_paths``, or ``img`` (+ ``img_path``) as
    above. Added/modified keys: ``img`` (uint8, ``(H, W, len(channels))``),
    ``img_shape``, ``ori_shape``.

    Args:
        channels (Sequence[int]): Modality index per output channel.
            Defaults to (0, 1, 0).
        modality_suffix (str): File suffix of modality ``k`` (formatted
            with ``k``), used to find the other modalities of a bare image
            given by its modality-0 file. Defaults to ``'_{:04d}.png'``
            (nnU-Net's naming, as ``ProstateSliceDataset``).
        imdecode_backend (str): mmcv decoding backend. Defaults to 'cv2'.
        backend_args (dict, optional): mmengine file backend arguments.
    """

    def __init__(self,
                 channels: Sequence[int] = (0, 1, 0),
                 modality_suffix: str = '_{:04d}.png',
                 imdecode_backend: str = 'cv2',
                 backend_args: Optional[dict] = None) -> None:
        if len(channels) == 0:
            raise ValueError('channels must name at least one modality')
        self.channels = tuple(int(c) for c in channels)
        self.modality_suffix = modality_suffix
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args.copy() if backend_args else None

    def transform(self, results: dict) -> dict:
        img = results.get('img')
        paths = results.get('modality_paths')
        if img is not None and not paths:
            if img.ndim == 3 and img.shape[2] == len(self.channels):
                return results  # a bare image holding the model's channels
            paths = self._sibling_paths(results.get('img_path'), img)
        if not paths:
            raise KeyError(
                'LoadMultiModalSliceFromFiles needs results["modality_paths"]'
                ' (set by ProstateSliceDataset) or a loaded image')
        if max(self.channels) >= len(paths):
            raise IndexError(
                f'channels {self.channels} ask for modality '
                f'{max(self.channels)} but the sample has {len(paths)}: '
                f'{paths}')
        planes: Dict[int, np.ndarray] = {}
        if img is not None:
            if img.ndim != 2:
                raise ValueError(
                    f'modality 0 of {paths[0]} was loaded with shape '
                    f'{img.shape}; load it as one grey channel: '
                    "LoadImageFromFile(color_type='grayscale')")
            planes[0] = img
        for k in sorted(set(self.channels) - set(planes)):
            # raises naming the file if missing, empty, truncated, not PNG
            planes[k] = read_image_file(
                paths[k],
                flag='grayscale',
                backend=self.imdecode_backend,
                backend_args=self.backend_args)
        shapes = {planes[k].shape for k in planes}
        if len(shapes) != 1:
            raise ValueError(
                f'modalities of one slice differ in size {shapes}: {paths}')
        img = np.stack([planes[k] for k in self.channels], axis=-1)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def _sibling_paths(self, img_path: Optional[str],
                       img: np.ndarray) -> List[str]:
        """Modality files of a bare image given by its modality-0 file."""
        first = self.modality_suffix.format(0)
        if not img_path or not img_path.endswith(first):
            given = (f'the image {osp.basename(img_path)}' if img_path else
                     'an array')
            raise ValueError(
                f'this model takes {len(self.channels)} channels (modalities '
                f'{self.channels}) but got {given} of shape {img.shape}: give '
                f'an (H, W, {len(self.channels)}) array of those channels, or '
                f'the path of modality 0 of a slice, <name>{first}, with its '
                f'other modalities <name>{self.modality_suffix.format(1)} ... '
                'next to it')
        stem = img_path[:-len(first)]
        return [
            stem + self.modality_suffix.format(k)
            for k in range(max(self.channels) + 1)
        ]

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(channels={self.channels}, '
                f"modality_suffix='{self.modality_suffix}', "
                f"imdecode_backend='{self.imdecode_backend}')")

"""Loading of multi-modal slices (one grey image per modality)."""
from typing import Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from mmplugin_transfuse.utils.image_checks import read_image_file


@TRANSFORMS.register_module()
class LoadMultiModalSliceFromFiles(BaseTransform):
    """Stack chosen modalities of a slice into one ``(H, W, C)`` image.

    The prostate converter saves each MR modality of a slice as its own
    8-bit grey PNG (``results['modality_paths']``, in ``dataset.json``
    order: 0 = T2, 1 = ADC). ``channels`` picks which modality fills each
    output channel, so the config chooses the input: the default
    ``(0, 1, 0)`` feeds T2/ADC/T2 to a 3-channel (ImageNet) stem and is
    symmetric, so ``bgr_to_rgb`` in the data preprocessor does not change
    it; ``(0, 0, 0)`` is T2 only; ``(0, 1)`` needs a 2-channel stem.

    Required keys: ``modality_paths``. Added keys: ``img`` (uint8,
    ``(H, W, len(channels))``), ``img_shape``, ``ori_shape``.

    Args:
        channels (Sequence[int]): Modality index per output channel.
            Defaults to (0, 1, 0).
        imdecode_backend (str): mmcv decoding backend. Defaults to 'cv2'.
        backend_args (dict, optional): mmengine file backend arguments.
    """

    def __init__(self,
                 channels: Sequence[int] = (0, 1, 0),
                 imdecode_backend: str = 'cv2',
                 backend_args: Optional[dict] = None) -> None:
        if len(channels) == 0:
            raise ValueError('channels must name at least one modality')
        self.channels = tuple(int(c) for c in channels)
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args.copy() if backend_args else None

    def transform(self, results: dict) -> dict:
        paths = results.get('modality_paths')
        if not paths:
            raise KeyError(
                'LoadMultiModalSliceFromFiles needs results["modality_paths"]'
                ' (set by ProstateSliceDataset)')
        if max(self.channels) >= len(paths):
            raise IndexError(
                f'channels {self.channels} ask for modality '
                f'{max(self.channels)} but the sample has {len(paths)}: '
                f'{paths}')
        planes = {}
        for k in sorted(set(self.channels)):
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

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(channels={self.channels}, '
                f"imdecode_backend='{self.imdecode_backend}')")

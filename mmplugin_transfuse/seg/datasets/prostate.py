"""Prostate MRI slices (Medical Segmentation Decathlon Task05)."""
import os.path as osp
from typing import List

from mmseg.registry import DATASETS

from .checked_files import describe_names
from .medical_2d import Medical2DDataset, is_spacing


@DATASETS.register_module()
class ProstateSliceDataset(Medical2DDataset):
    """2-D axial slices of the MSD Task05 prostate volumes (T2 + ADC).

    Reads the layout written by ``tools/dataset_converters/prostate_msd.py``::

        <data_root>/images/prostate_00_s007_0000.png  # T2, uint8
        <data_root>/images/prostate_00_s007_0001.png  # ADC, uint8
        <data_root>/masks/prostate_00_s007.png        # 0 bg, 1 PZ, 2 TZ
        <data_root>/splits/{train,val}.txt            # slice names
        <data_root>/slices.json                       # per-slice metadata

    Each sample carries, from ``slices.json``: ``volume_id`` (e.g.
    ``'prostate_00'``), ``slice_idx`` (position along the volume's third
    axis), ``num_slices`` and ``spacing`` = ``(row, col, slice)`` voxel
    spacing in mm, in the order of the saved array axes. The metrics group
    slices by ``volume_id`` to compute per-volume Dice and 3-D surface
    distances (TransFuse Table 4), so these keys must be listed in
    ``PackSegInputs(meta_keys=...)``.

    Each sample also gets ``modality_paths`` (one image per modality, in
    ``dataset.json`` order), read by :class:`LoadMultiModalSliceFromFiles`,
    which picks the channels; ``img_path`` is modality 0 (T2).

    Args:
        meta_file (str): Per-slice metadata, relative to ``data_root``.
            Defaults to ``'slices.json'``.
        num_modalities (int): Modalities saved per slice. Defaults to 2.
        img_suffix (str): Suffix of modality 0's file. Defaults to
            ``'_0000.png'``.
        modality_suffix (str): Format of modality ``k``'s suffix. Defaults
            to ``'_{:04d}.png'`` (nnU-Net's naming).
        seg_map_suffix (str): Defaults to ``'.png'``.
        **kwargs: Passed to :class:`Medical2DDataset`.
    """

    METAINFO = dict(
        classes=('background', 'PZ', 'TZ'),
        palette=[[0, 0, 0], [230, 25, 75], [60, 180, 75]])
    REQUIRED_KEYS = ('volume_id', 'slice_idx', 'spacing')
    SPACING_LEN = 3

    def __init__(self,
                 meta_file: str = 'slices.json',
                 num_modalities: int = 2,
                 img_suffix: str = '_0000.png',
                 modality_suffix: str = '_{:04d}.png',
                 seg_map_suffix: str = '.png',
                 **kwargs) -> None:
        self.num_modalities = num_modalities
        self.modality_suffix = modality_suffix
        super().__init__(
            meta_file=meta_file,
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """Slices with their volume metadata and per-modality image paths."""
        data_list = super().load_data_list()
        img_dir = self.data_prefix.get('img_path', None) or ''
        for info in data_list:
            missing = [k for k in self.REQUIRED_KEYS if k not in info]
            if missing:
                raise KeyError(f'slice {info["sample_name"]!r} lacks '
                               f'{missing} in {self.meta_file}')
            wrong = self._wrong_slice_fields(info)
            if wrong:
                raise ValueError(f'{self.meta_file}: slice '
                                 f'{info["sample_name"]!r}: ' +
                                 '; '.join(wrong))
            info['modality_paths'] = [
                osp.join(img_dir,
                         info['sample_name'] + self.modality_suffix.format(k))
                for k in range(self.num_modalities)
            ]
        # modality 0 is img_path, checked by CheckedSegFilesMixin
        missing = [
            path for info in data_list for path in info['modality_paths'][1:]
            if not self._exists(path)
        ]
        if missing:
            raise FileNotFoundError(
                f'{type(self).__name__}: slices without all '
                f'{self.num_modalities} modality images '
                f'{img_dir}/<name>{self.modality_suffix}: '
                f'{describe_names(missing)}')
        return data_list

    @staticmethod
    def _wrong_slice_fields(info: dict) -> List[str]:
        """What the per-volume metrics cannot use (they group slices by
        ``volume_id``, order them by ``slice_idx``, scale by ``spacing``)."""
        wrong = []
        volume, idx = info['volume_id'], info['slice_idx']
        if not isinstance(volume, str) or not volume:
            wrong.append(f'"volume_id" must be a non-empty string, got '
                         f'{volume!r}')
        if not (isinstance(idx, int) and not isinstance(idx, bool)
                and idx >= 0):
            wrong.append(f'"slice_idx" must be an integer >= 0, got {idx!r}')
        if not is_spacing(info['spacing'], 3):
            wrong.append('"spacing" must be (row, col, slice) in mm, 3 '
                         f'positive numbers, got {info["spacing"]!r}')
        num = info.get('num_slices', 1)
        if not (isinstance(num, int) and not isinstance(num, bool)
                and num >= 1):
            wrong.append(f'"num_slices" must be an integer >= 1, got {num!r}')
        return wrong

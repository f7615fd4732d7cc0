#!/usr/bin/env python
"""Convert MSD Task05 (prostate MRI) volumes to 2-D slices with metadata.

Source (``Task05_Prostate.tar`` of the Medical Segmentation Decathlon)::

    SRC/dataset.json                     # modality {0: T2, 1: ADC}, labels,
                                         # "training": [{image, label}, ...]
    SRC/imagesTr/prostate_XX.nii.gz      # 4-D (X, Y, Z, 2)
    SRC/labelsTr/prostate_XX.nii.gz      # 3-D (X, Y, Z): 0 bg, 1 PZ, 2 TZ
    SRC/imagesTs/...                     # no labels: ignored

Only the cases listed in ``dataset.json``'s ``training`` are read (so the
macOS ``._prostate_XX.nii.gz`` forks of some archives are ignored).

Output (``configs/_base_/datasets/prostate_msd.py`` reads it)::

    OUT/images/<vol>_s<zzz>_<mmmm>.png   # slice z of modality m, uint8
    OUT/masks/<vol>_s<zzz>.png           # class ids 0/1/2
    OUT/splits/{train,val}.txt           # slice names
    OUT/splits/{train,val}_volumes.txt   # volume ids (split by volume)
    OUT/slices.json                      # name -> volume_id, slice_idx,
                                         #   num_slices, spacing
    OUT/volumes.json                     # volume -> shape, spacing, split,
                                         #   source files

Slices are taken along the volume's third array axis, without reorienting,
so ``spacing`` is ``(row, col, slice)`` = the NIfTI header's first three
zooms, in mm. Each modality of each volume is clipped to its own 0.5 / 99.5
intensity percentiles and scaled to 0..255
(:func:`mmplugin_transfuse.data_prep.msd.volume_to_uint8`). Labels are
rounded to integers and must be ids of ``dataset.json``'s ``labels``. The
split is by volume (seeded), so no volume has slices in both splits. The
source is only read.

Example::

    python tools/dataset_converters/prostate_msd.py data/Task05_Prostate \
        --out data/prostate_msd --val-ratio 0.2
"""
import argparse
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence

from tqdm import tqdm

from mmplugin_transfuse.data_prep.conversion import (
    conversion_output, converter_parser, random_split, report_counts,
    require_dir, write_png, write_split)
from mmplugin_transfuse.data_prep.msd import (check_case_header,
                                                 load_case, modality_names,
                                                 read_dataset_json,
                                                 training_cases,
                                                 volume_to_uint8)


def slice_name(volume_id: str, z: int) -> str:
    """Name of slice ``z`` of a volume, e.g. ``prostate_00_s007``."""
    return f'{volume_id}_s{z:03d}'


def convert(src: str,
            out_dir: str,
            val_ratio: float = 0.2,
            seed: int = 0,
            percentiles: Sequence[float] = (0.5, 99.5)) -> Dict[str, int]:
    """Write the slices, masks, splits and metadata of every case."""
    with conversion_output(out_dir, [src]):
        require_dir(src, 'MSD Task05_Prostate folder')
        meta = read_dataset_json(src)
        modalities = modality_names(meta)
        label_ids = [int(k) for k in meta['labels']]
        cases = training_cases(meta)
        for case in cases.values():  # fail before writing anything
            check_case_header(src, case, len(modalities))
        train_vols, val_vols = random_split(list(cases), val_ratio, seed)
        split_of = {v: 'train' for v in train_vols}
        split_of.update({v: 'val' for v in val_vols})

        slices, volumes = {}, {}
        split_slices: Dict[str, List[str]] = {'train': [], 'val': []}
        for volume_id in tqdm(sorted(cases), desc='prostate volumes',
                              unit='vol'):
            case = cases[volume_id]
            image, label, spacing = load_case(src, case, len(modalities),
                                              label_ids)
            planes = volume_to_uint8(image, percentiles)  # (X, Y, Z, M)
            depth = image.shape[2]
            for z in range(depth):
                name = slice_name(volume_id, z)
                for m in range(planes.shape[-1]):
                    write_png(
                        osp.join(out_dir, 'images', f'{name}_{m:04d}.png'),
                        planes[:, :, z, m])
                write_png(osp.join(out_dir, 'masks', name + '.png'),
                          label[:, :, z])
                slices[name] = dict(
                    volume_id=volume_id,
                    slice_idx=z,
                    num_slices=depth,
                    spacing=list(spacing))
                split_slices[split_of[volume_id]].append(name)
            volumes[volume_id] = dict(
                shape=list(image.shape[:3]),
                spacing=list(spacing),
                split=split_of[volume_id],
                image=case['image'],
                label=case['label'])

        for split, names in split_slices.items():
            write_split(osp.join(out_dir, 'splits', f'{split}.txt'), names)
        for split, vols in (('train', train_vols), ('val', val_vols)):
            write_split(
                osp.join(out_dir, 'splits', f'{split}_volumes.txt'), vols)
        with open(osp.join(out_dir, 'slices.json'), 'w') as f:
            json.dump(slices, f, indent=1)
        with open(osp.join(out_dir, 'volumes.json'), 'w') as f:
            json.dump(
                dict(modalities=modalities, labels=meta['labels'],
                     percentiles=list(percentiles), volumes=volumes),
                f,
                indent=1)
        counts = dict(
            volumes=len(volumes),
            train_volumes=len(train_vols),
            val_volumes=len(val_vols),
            train_slices=len(split_slices['train']),
            val_slices=len(split_slices['val']))
        report_counts(f'MSD prostate written to {out_dir} '
                      f'(modalities {modalities}):', counts, dict(volumes=32))
        return counts


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = converter_parser(__doc__.split('\n')[0],
                              'the Task05_Prostate folder',
                              'data/prostate_msd')
    parser.add_argument(
        '--val-ratio', type=float, default=0.2,
        help='fraction of volumes for validation (default 0.2)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--percentiles', nargs=2, type=float, default=[0.5, 99.5],
        metavar=('LOW', 'HIGH'), help='intensity clip percentiles')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Dict[str, int]:
    return convert(**vars(parse_args(argv)))


if __name__ == '__main__':
    main()

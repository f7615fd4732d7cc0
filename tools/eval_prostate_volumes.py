#!/usr/bin/env python
"""Run a trained 2-D prostate model over whole MSD volumes (paper Table 4).

For each volume of MSD Task05 (read from the original NIfTI files), every
axial slice is preprocessed exactly as ``prostate_msd.py`` converted the
training data (per-volume percentile scaling, the config's modality
channels, the config's test pipeline), all slices go through the model as
batches, and the predicted slices are stacked back into a volume. Reported
per volume: Dice of each class on the 3-D volume, optionally HD95 / HD /
ASD in mm (``--surface``), and the seconds the volume took:

- ``infer_s``: preprocessing + forward + resizing back, the volume already
  in memory (what TransFuse Table 4's "s/volume" measures: 0.192 s for
  TransFuse-S on their GPU);
- ``total_s``: also reading the NIfTI files.

Example::

    CFG=configs/transfuse/transfuse-s_r34-deit-s_1xb16-5k_prostate-msd-*.py
    python tools/eval_prostate_volumes.py $CFG \
        work_dirs/prostate/best_mDice_iter_5000.pth \
        --msd-root data/Task05_Prostate \
        --volumes-file data/prostate_msd/splits/val_volumes.txt \
        --device cuda:0 --surface --out prostate_volumes.json
"""
import argparse
import copy
import json
import time
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import Compose, pseudo_collate
from mmseg.apis import init_model
from mmseg.registry import DATASETS
from prettytable import PrettyTable

from mmplugin_transfuse.data_prep.msd import (load_case, modality_names,
                                                 read_dataset_json,
                                                 training_cases,
                                                 volume_to_uint8)
from mmplugin_transfuse.seg.evaluation import (confusion_counts,
                                               dice_from_counts,
                                               surface_distance_measures)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='prostate config file')
    parser.add_argument('checkpoint', help='trained checkpoint')
    parser.add_argument(
        '--msd-root', required=True,
        help='the Task05_Prostate folder (dataset.json, imagesTr, labelsTr)')
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--volumes', nargs='+', help='volume ids to evaluate')
    group.add_argument(
        '--volumes-file',
        help='file with one volume id per line (e.g. the converter\'s '
        'splits/val_volumes.txt); default: every labelled volume')
    parser.add_argument('--device', default='cuda:0')
    parser.add_argument(
        '--batch-size', type=int, default=0,
        help='slices per forward pass; 0 = the whole volume at once')
    parser.add_argument(
        '--percentiles', nargs=2, type=float, default=[0.5, 99.5],
        help='intensity clip percentiles (as used by the converter)')
    parser.add_argument(
        '--warmup', type=int, default=1,
        help='untimed passes over the first volume before timing')
    parser.add_argument(
        '--surface', action='store_true', help='also HD95 / HD / ASD in mm')
    parser.add_argument('--out', help='write the per-volume results (JSON)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, key=value')
    return parser.parse_args(argv)


def build_slice_pipeline(cfg: Config) -> tuple:
    """The config's test pipeline fed from arrays instead of files.

    Returns:
        tuple: (``Compose`` pipeline, modality channels of the first step).
    """
    steps = copy.deepcopy(cfg.test_pipeline)
    stack = [s for s in steps if s['type'] == 'LoadMultiModalSliceFromFiles']
    if not stack:
        raise ValueError(
            "the config's test_pipeline has no LoadMultiModalSliceFromFiles "
            f'step: {[s["type"] for s in steps]}')
    channels = tuple(stack[0].get('channels', (0, 1, 0)))
    # the slices arrive as (H, W, C) arrays of these channels
    steps = [
        s for s in steps if s['type'] not in (
            'LoadImageFromFile', 'LoadMultiModalSliceFromFiles',
            'LoadAnnotations')
    ]
    steps.insert(0, dict(type='LoadImageFromNDArray'))
    return Compose(steps), channels


@torch.no_grad()
def predict_volume(model: torch.nn.Module, pipeline: Compose,
                   volume_u8: np.ndarray, channels: Sequence[int],
                   batch_size: int) -> np.ndarray:
    """Class ids of a ``(X, Y, Z, M)`` uint8 volume, as ``(X, Y, Z)``."""
    depth = volume_u8.shape[2]
    items = [
        pipeline(dict(img=np.ascontiguousarray(volume_u8[:, :, z, channels])))
        for z in range(depth)
    ]
    step = batch_size if batch_size > 0 else depth
    preds = []
    for start in range(0, depth, step):
        batch = pseudo_collate(items[start:start + step])
        for sample in model.test_step(batch):
            preds.append(sample.pred_sem_seg.data[0].cpu().numpy())
    return np.stack(preds, axis=-1).astype(np.uint8)


def config_classes(cfg: Config) -> List[str]:
    """Class names of the config's test dataset (not the checkpoint's)."""
    ds = cfg.test_dataloader.dataset
    classes = (ds.get('metainfo') or {}).get('classes')
    if classes is None:
        classes = DATASETS.get(ds.type).METAINFO['classes']
    return list(classes)


def _sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def evaluate(args: argparse.Namespace) -> Dict[str, dict]:
    """Per-volume Dice (and distances) and timings; prints a table."""
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    model = init_model(cfg, args.checkpoint, device=args.device)
    pipeline, channels = build_slice_pipeline(cfg)
    classes = config_classes(cfg)
    class_ids = list(range(1, len(classes)))

    meta = read_dataset_json(args.msd_root)
    cases = training_cases(meta)
    if args.volumes:
        volumes = args.volumes
    elif args.volumes_file:
        with open(args.volumes_file) as f:
            volumes = f.read().split()
    else:
        volumes = sorted(cases)
    unknown = [v for v in volumes if v not in cases]
    if unknown:
        raise KeyError(f'volumes {unknown} are not labelled cases of '
                       f'{args.msd_root}/dataset.json')
    num_mod = len(modality_names(meta))
    label_ids = [int(k) for k in meta['labels']]

    # untimed passes first: CUDA context, cuDNN autotuning, allocator
    if args.warmup > 0 and volumes:
        image = load_case(args.msd_root, cases[volumes[0]], num_mod,
                          label_ids)[0]
        for _ in range(args.warmup):
            predict_volume(model, pipeline,
                           volume_to_uint8(image, args.percentiles),
                           channels, args.batch_size)

    results: Dict[str, dict] = {}
    for volume in volumes:
        _sync(args.device)
        t0 = time.perf_counter()
        image, label, spacing = load_case(args.msd_root, cases[volume],
                                          num_mod, label_ids)
        _sync(args.device)
        t1 = time.perf_counter()
        pred = predict_volume(model, pipeline,
                              volume_to_uint8(image, args.percentiles),
                              channels, args.batch_size)
        _sync(args.device)
        t2 = time.perf_counter()
        dice = dice_from_counts(confusion_counts(pred, label, class_ids))
        entry = dict(
            dice={classes[c]: float(d)
                  for c, d in zip(class_ids, dice)},
            mean_dice=float(np.mean(dice)),
            infer_s=t2 - t1,
            total_s=t2 - t0,
            num_slices=int(label.shape[2]),
            spacing=list(spacing))
        if args.surface:
            entry['surface'] = {
                classes[c]: surface_distance_measures(
                    pred == c, label == c, spacing)[0]
                for c in class_ids
            }
        results[volume] = entry

    table = PrettyTable()
    names = [classes[c] for c in class_ids]
    table.field_names = ['volume', 'slices'] + [f'Dice {n}' for n in names] \
        + ['mean Dice', 'infer s', 'total s']
    for volume, r in results.items():
        table.add_row([volume, r['num_slices']] +
                      [f'{r["dice"][n]:.4f}' for n in names] + [
                          f'{r["mean_dice"]:.4f}', f'{r["infer_s"]:.3f}',
                          f'{r["total_s"]:.3f}'
                      ])
    means = {
        n: float(np.mean([r['dice'][n] for r in results.values()]))
        for n in names
    }
    summary = dict(
        dice=means,
        mean_dice=float(np.mean(list(means.values()))),
        infer_s_per_volume=float(
            np.mean([r['infer_s'] for r in results.values()])),
        total_s_per_volume=float(
            np.mean([r['total_s'] for r in results.values()])),
        num_volumes=len(results),
        device=args.device)
    table.add_row(['mean', ''] + [f'{means[n]:.4f}' for n in names] + [
        f'{summary["mean_dice"]:.4f}', f'{summary["infer_s_per_volume"]:.3f}',
        f'{summary["total_s_per_volume"]:.3f}'
    ])
    print(table.get_string())
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(volumes=results, summary=summary), f, indent=1)
    return dict(volumes=results, summary=summary)


def main(argv: Optional[List[str]] = None) -> Dict[str, dict]:
    return evaluate(parse_args(argv))


if __name__ == '__main__':
    main()

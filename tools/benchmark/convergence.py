#!/usr/bin/env python
"""Convergence study: SMCA-DETR vs mmdet's DETR-family detectors.

SMCA's claim (Gao et al., ICCV 2021, Fig. 1 / Sec. 4) is that the Gaussian
prior in the co-attention makes DETR converge much faster. This script
trains the detectors with the *same* backbone, transformer size,
queries, data, schedule, optimizer and seed, validates them every
``val_interval`` iterations (COCO bbox mAP), and writes

* ``<out>/convergence.csv`` - model, iteration, bbox mAP, mAP_50;
* ``<out>/convergence.png`` - mAP against iterations, one line per model;
* ``<out>/summary.csv`` and a printed table - mAP at the half-way and the
  final validation, and the first validated iteration at which each model
  reaches DETR's final mAP (with its fraction of DETR's iterations).

What differs between them is only what each paper changes: DETR
(``DETR``, ``DETRHead``: softmax cross-entropy, mmdet's config), Conditional
DETR (``ConditionalDETR``: conditional spatial queries, focal loss, mmdet's
config), SMCA-DETR (this package: Gaussian-modulated co-attention, focal
loss) and multi-scale SMCA-DETR (levels E16/E32/E64, intra- and multi-scale
encoder blocks, per-level priors with scale-selection attention; see
:func:`_multi_scale_levels`). Their model dicts come from
``mmdet::detr/detr_r50_8xb2-150e_coco.py``,
``mmdet::conditional_detr/conditional-detr_r50_8xb2-50e_coco.py`` and the
package's two synthetic-shapes SMCA configs (``MODELS``); the shared parts
(backbone, neck inputs, layer counts, FFN, dropout, queries, classes) are
then overwritten with the preset's.

The peers a user would pick instead of SMCA (``PEER_MODELS``) are trained
with the same recipe: mmdet's DAB-DETR (anchor-box queries), Deformable
DETR on one level (the shared C4 map, against SMCA-DETR) and on multi-scale
SMCA's three levels (against it), and multi-scale SMCA with the authors'
later depthwise-conv encoder (``encoder.type='dwconv'``). Each keeps
mmdet's (or its config's) defaults for its own parts but the recipe's
queries; ``MODEL_CHOICES`` (printed by ``--help``) lists every choice.
``--models`` picks any of the eight; the default trains all of them, one
after another.

Presets (every field can be overridden on the command line):

* default (``cpu``), the recipe that separates DETR from Conditional DETR on
  2 CPU cores: synthetic shapes (``tools/dataset_generators/
  generate_synthetic_shapes.py --num-classes 3 --objects 1 4``: 1-4 shapes
  of 3 classes per image) at 128 px, 2000 train / 200 val; ResNet-18 cut after stage 3 (stride 16),
  random init; 3 encoder + 3 decoder layers, FFN 1024, dropout 0.1,
  20 queries; batch 8, AdamW 1e-4 constant (weight decay 1e-4, backbone at
  the full rate), grad-norm clip 0.1; 6000 iterations, validation every 300.
  25-70 min per model on 2 cores. The data are drawn with ``--data-seed``
  (default 0) when the folder is missing, so runs with other ``--seed``
  values train on the same images; a folder that is there is checked
  against the recipe and the data seed (:func:`check_data`).
  SMCA's prior is measured in the reference's units: the reference code
  set ``beta = 8`` and its offset head for COCO's stride-32 maps, whose
  short side is 25 cells; here the prior's unit is ``cells / 25`` of the
  map (:func:`smca_prior_unit`: 0.32 on this 8x8 map), so its initial
  width, the spread of the head offsets and their steps are the same
  fraction of the image (``--smca-prior-unit 1`` uses the map's cells as
  the reference code does; ``--smca-beta`` changes ``beta``).
* ``--full``, for a GPU: the papers' architecture size (ResNet-50 C5,
  6 + 6 layers, FFN 2048, 100 queries, random init) on 512 px synthetic
  shapes, 10000 train / 1000 val, batch 16, 50000 iterations, validation
  every 2500, AMP.

Examples::

    python tools/benchmark/convergence.py --out work_dirs/convergence
    python tools/benchmark/convergence.py --iters 3000   # all stop at 3000
    # one model per call: curves of the other models in --out are kept
    python tools/benchmark/convergence.py --models DETR --out work_dirs/conv
    python tools/benchmark/convergence.py --full --out work_dirs/conv_full
    python tools/benchmark/convergence.py --plot-only --out work_dirs/convergence
    # a stopped study, or one to train further: the same --out, --resume
    python tools/benchmark/convergence.py --models DETR --out work_dirs/conv \
        --iters 12000 --resume
"""
import argparse
import copy
import csv
import glob
import itertools
import json
import os
import os.path as osp
from typing import Any, Dict, List, Optional

from mmplugin_transfuse.utils import benchmark as common

MODELS = {
    'DETR': 'mmdet::detr/detr_r50_8xb2-150e_coco.py',
    'Conditional DETR':
    'mmdet::conditional_detr/conditional-detr_r50_8xb2-50e_coco.py',
    'SMCA-DETR':
    'configs/smca_detr/smca-detr_r18_1xb8-36e_synthetic-shapes-160x160.py',
    'SMCA-DETR multi-scale':
    'configs/smca_detr/smca-detr-ms_r18_1xb8-12e_synthetic-shapes-96x96.py',
}
# the detectors a user would pick instead of SMCA (mmdet's, and the
# authors' later SMCA encoder), trained with the same recipe
PEER_MODELS = {
    'DAB-DETR': 'mmdet::dab_detr/dab-detr_r50_8xb2-50e_coco.py',
    'Deformable DETR':
    'mmdet::deformable_detr/deformable-detr_r50_16xb2-50e_coco.py',
    'Deformable DETR multi-scale':
    'mmdet::deformable_detr/deformable-detr_r50_16xb2-50e_coco.py',
    # its encoder and per-level prior factors; the rest is multi-scale SMCA's
    'SMCA-DETR multi-scale dwconv':
    'configs/smca_detr/smca-detr-ms-dwconv_r50_8xb2-50e_coco.py',
}
ALL_MODELS = {**MODELS, **PEER_MODELS}
SMCA_MODELS = ('SMCA-DETR', 'SMCA-DETR multi-scale',
               'SMCA-DETR multi-scale dwconv')
# feature levels of the Deformable DETR models: one (the shared C4 map,
# against SMCA-DETR) or multi-scale SMCA's three (E16, E32, E64)
DEFORMABLE_LEVELS = {'Deformable DETR': 1, 'Deformable DETR multi-scale': 3}
# strides of the levels of multi-scale SMCA in this study, both presets
MULTI_SCALE_STRIDES = (16, 32, 64)
# what each model keeps of its own design (printed by --help)
MODEL_CHOICES = """\
DETR, Conditional DETR: mmdet's configs (DETRHead with softmax CE;
  conditional spatial queries, focal loss).
SMCA-DETR, SMCA-DETR multi-scale: this package's synthetic-shapes configs
  (Gaussian-modulated co-attention, focal loss; multi-scale: E16/E32/E64,
  intra/multi/intra encoder, per-level priors, scale-selection attention).
DAB-DETR: mmdet's config: 4-d anchor queries (query_dim=4) refined layer by
  layer, modulated width/height attention, no random reference points, no
  pattern embeddings, PReLU FFNs, focal loss; the recipe's queries and
  dropout (mmdet: 300 queries, dropout 0).
Deformable DETR: mmdet's base config (no box refinement, not two-stage):
  MultiScaleDeformableAttention (8 heads, 4 points per level) on ONE level,
  the shared C4 map (against SMCA-DETR); GroupNorm in the neck; focal loss
  (weight 2), L1 5, GIoU 2; sampling offsets and reference points at 0.1 x
  the recipe's lr (its config's multipliers but the backbone's); the
  recipe's queries (mmdet: 300). On CPU the attention runs mmcv's PyTorch
  fallback (multi_scale_deformable_attn_pytorch).
Deformable DETR multi-scale: the same on multi-scale SMCA's three levels
  (E16 from C4, E32 and E64 from the neck's two stride-2 3x3 convs;
  mmdet's default is four levels from C3-C5).
SMCA-DETR multi-scale dwconv: multi-scale SMCA with the authors' later
  depthwise-conv encoder (encoder.type='dwconv': 7x7 per-level depthwise
  convs, shared cross-level fusion convs) from
  smca-detr-ms-dwconv_r50_8xb2-50e_coco.py, and its per-stride prior
  factors (0.5, 1, 2 for strides 16, 32, 64); the same three levels as
  multi-scale SMCA (the config's fourth, E8 from C3, is left out).
Shared by all (overwritten from the preset): backbone, neck inputs, layer
  counts, FFN width, dropout, queries, classes, optimizer (backbone at the
  full rate), schedule, data and seed."""
# the data set, runtime and evaluator come from the package's synthetic config
RUNTIME_CONFIG = MODELS['SMCA-DETR']
# SMCA's reference prior: its beta and offset head were set on COCO, whose
# short side is 800 px (25 cells at stride 32; `smca_prior_unit`)
REFERENCE_SHORT_SIDE = 800
# numbers the runs of this process (one mmengine Visualizer name each)
_RUN_IDS = itertools.count()

CPU_PRESET: Dict[str, Any] = dict(
    size=128,
    num_train=2000,
    num_val=200,
    num_classes=3,
    min_objects=1,
    max_objects=4,
    depth=18,
    c4=True,
    enc_layers=3,
    dec_layers=3,
    ffn=1024,
    dropout=0.1,
    queries=20,
    batch=8,
    lr=1e-4,
    clip=0.1,
    iters=6000,
    val_interval=300,
    workers=2,
    amp=False)
PRESETS: Dict[str, Dict[str, Any]] = {
    'cpu': CPU_PRESET,
    # the same data recipe and optimizer at the papers' model size
    'full': dict(
        CPU_PRESET,
        size=512,
        num_train=10000,
        num_val=1000,
        depth=50,
        c4=False,
        enc_layers=6,
        dec_layers=6,
        ffn=2048,
        queries=100,
        batch=16,
        iters=50000,
        val_interval=2500,
        workers=4,
        amp=True),
}


def _set_dropout(attn_cfg: Dict[str, Any], p: float) -> None:
    # mmcv's MultiheadAttention and MultiScaleDeformableAttention call it
    # `dropout`, mmdet's ConditionalAttention (Conditional and DAB-DETR)
    # `attn_drop`
    attn_cfg['attn_drop' if 'attn_drop' in attn_cfg else 'dropout'] = p


def model_config(name: str, opts: Dict[str, Any],
                 num_classes: int) -> Dict[str, Any]:
    """``name``'s model dict with the shared parts set from ``opts``."""
    if name == 'SMCA-DETR multi-scale dwconv':
        return _dwconv_model(opts, num_classes)
    model = copy.deepcopy(
        common.load_config(ALL_MODELS[name]).model.to_dict())
    channels = 256 if opts['depth'] < 50 else 1024
    if not opts['c4']:
        channels *= 2
    model['backbone'] = dict(
        type='ResNet',
        depth=opts['depth'],
        # C4: stages 1-3 only (stride 16); C5: all four (stride 32)
        num_stages=3 if opts['c4'] else 4,
        strides=(1, 2, 2) if opts['c4'] else (1, 2, 2, 2),
        dilations=(1, 1, 1) if opts['c4'] else (1, 1, 1, 1),
        out_indices=(2, ) if opts['c4'] else (3, ),
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        init_cfg=None)
    model['neck']['in_channels'] = [channels]
    model['num_queries'] = opts['queries']
    enc, dec = model['encoder'], model['decoder']
    if name == 'SMCA-DETR multi-scale':
        _multi_scale_levels(model, opts)
        # the paper's "2Intra-Multi-2Intra" shortened to the recipe's depth:
        # intra-scale blocks around one multi-scale block
        enc['layout'] = ['multi' if i == opts['enc_layers'] // 2 else 'intra'
                         for i in range(opts['enc_layers'])]
    else:
        enc['num_layers'] = opts['enc_layers']
    if name in DEFORMABLE_LEVELS:
        _deformable_levels(model, opts, DEFORMABLE_LEVELS[name])
    dec['num_layers'] = opts['dec_layers']
    for layer, attns in ((enc['layer_cfg'], ['self_attn_cfg']),
                         (dec['layer_cfg'],
                          ['self_attn_cfg', 'cross_attn_cfg'])):
        for key in attns:
            _set_dropout(layer[key], opts['dropout'])
        layer['ffn_cfg']['feedforward_channels'] = opts['ffn']
        layer['ffn_cfg']['ffn_drop'] = opts['dropout']
    model['bbox_head']['num_classes'] = num_classes
    model['test_cfg'] = dict(max_per_img=opts['queries'])
    if name in SMCA_MODELS:
        dec['layer_cfg']['prior_unit'] = smca_prior_unit(
            opts, multi_scale=name != 'SMCA-DETR')
        if opts.get('smca_beta') is not None:
            dec['layer_cfg']['beta'] = float(opts['smca_beta'])
    return model


def _deformable_levels(model: Dict[str, Any], opts: Dict[str, Any],
                       num_levels: int) -> None:
    """Deformable DETR (Zhu et al., ICLR 2021, Sec. 4.1) on ``num_levels``
    levels of the recipe's backbone: 1 = the shared C4 (or C5) map, 3 =
    multi-scale SMCA's E16, E32, E64 (:func:`_multi_scale_levels`)."""
    if num_levels == 1:
        model['neck']['num_outs'] = 1
    else:
        _multi_scale_levels(model, opts)
    model['num_feature_levels'] = num_levels
    # MultiScaleDeformableAttention samples points on every level
    model['encoder']['layer_cfg']['self_attn_cfg']['num_levels'] = num_levels
    model['decoder']['layer_cfg']['cross_attn_cfg']['num_levels'] = (
        num_levels)


def _dwconv_model(opts: Dict[str, Any], num_classes: int) -> Dict[str, Any]:
    """Multi-scale SMCA with the depthwise-conv encoder of
    ``PEER_MODELS['SMCA-DETR multi-scale dwconv']``.

    Everything but the encoder and the decoder's per-level prior factors is
    the study's multi-scale SMCA, levels E16, E32, E64 included; the
    config's encoder (``type='dwconv'``, kernel, cross-level sharing) gets
    the recipe's layer count, FFN and dropout, and each level keeps the
    config's prior factor for its stride (0.5, 1, 2 at 16, 32, 64).
    """
    model = model_config('SMCA-DETR multi-scale', opts, num_classes)
    source = common.load_config(
        PEER_MODELS['SMCA-DETR multi-scale dwconv']).model
    factors = dict(
        zip(_level_strides(source),
            source.decoder.layer_cfg.level_prior_factors))
    encoder = copy.deepcopy(source.encoder.to_dict())
    encoder['num_layers'] = opts['enc_layers']
    encoder['layer_cfg'].update(
        num_levels=len(MULTI_SCALE_STRIDES),
        dropout=opts['dropout'],
        # the recipe's FFN, as multi-scale SMCA's encoder has it
        ffn_cfg=model['encoder']['layer_cfg']['ffn_cfg'])
    model['encoder'] = encoder
    model['decoder']['layer_cfg']['level_prior_factors'] = [
        factors[s] for s in MULTI_SCALE_STRIDES
    ]
    return model


def _level_strides(model: Any) -> List[int]:
    """Strides of a ResNet + ChannelMapper config's levels: ``4 * 2**i`` for
    ``out_indices`` ``i``, each extra level of the neck doubling the last."""
    strides = [4 * 2**i for i in model.backbone.out_indices]
    while len(strides) < model.neck.num_outs:
        strides.append(2 * strides[-1])
    return strides


def own_lr_mults(name: str) -> Dict[str, Dict[str, float]]:
    """The lr multipliers of ``name``'s own config but the backbone's.

    Every model trains its (randomly initialised) backbone at the recipe's
    rate; a model's other multipliers are part of its design: Deformable
    DETR's 0.1 on the sampling offsets and reference points (Zhu et al.,
    Sec. 4.1). Empty for the other models.
    """
    wrapper = common.load_config(ALL_MODELS[name]).get(
        'optim_wrapper', {})
    keys = wrapper.get('paramwise_cfg', {}).get('custom_keys', {})
    return {k: dict(v) for k, v in keys.items() if k != 'backbone'}


def _multi_scale_levels(model: Dict[str, Any], opts: Dict[str, Any]) -> None:
    """Levels E16, E32, E64 of multi-scale SMCA from the recipe's backbone.

    The paper's levels are strides 16, 32 and 64 (ResNet C4 and C5, and a
    stride-2 convolution on C5). The CPU preset's backbone stops after C4
    (stride 16): E32 and E64 come from two stride-2 convolutions of the
    ``ChannelMapper`` (on C4, then on E32), so the backbone is the one every
    model of the study trains. With C5 (``--full``) C4 and C5 are tapped, as
    in ``configs/smca_detr/smca-detr-ms_r50_8xb2-50e_coco.py``.
    """
    c4_channels = 256 if opts['depth'] < 50 else 1024
    if not opts['c4']:
        model['backbone']['out_indices'] = (2, 3)
        model['neck']['in_channels'] = [c4_channels, 2 * c4_channels]
    model['neck']['num_outs'] = 3


def smca_prior_unit(opts: Dict[str, Any], multi_scale: bool = False) -> float:
    """Length in feature-map cells of SMCA's prior unit for the recipe.

    ``opts['smca_prior_unit']`` when set; otherwise ``n / 25`` for a map of
    ``n`` cells on the short side (CPU preset: 128 px / 16 = 8 cells ->
    0.32; ``--full``: 512 px / 32 = 16 cells -> 0.64). Multi-scale SMCA
    (``multi_scale``) measures its finest level, stride 16 in the paper and
    here, against the reference's 800 / 16 = 50 cells: every level then
    gets the unit ``size / 800`` (0.16 on the CPU preset, 0.64 with
    ``--full``), the fraction of the image the reference's priors cover
    at that level. The reference code
    measures offsets and distances in cells and set ``beta = 8`` and the
    offset head's initialisation on COCO, 25 cells on the short side: its
    initial prior is a Gaussian of ``sigma = sqrt(beta / 2) = 2`` cells, 8 %
    of the side, and the Xavier-initialised offset head spreads the heads
    by about 1.4 cells, 5.5 %. In cells of an 8-cell map the same numbers
    are 25 % and 17 % of the image; in units of ``8 / 25`` cells they are
    the reference's fractions again (see ``prior_unit`` of
    :class:`SMCATransformerDecoderLayer`).
    """
    if opts.get('smca_prior_unit') is not None:
        return float(opts['smca_prior_unit'])
    stride = 16 if multi_scale or opts['c4'] else 32
    return (opts['size'] / stride) / (REFERENCE_SHORT_SIDE / (
        16 if multi_scale else 32))


def run_config(name: str, opts: Dict[str, Any], data_root: str,
               work_dir: str, seed: int, device: str):
    """The full mmengine config of one model's run."""
    cfg = common.load_config(RUNTIME_CONFIG)
    classes = tuple(cfg.metainfo['classes'][:opts['num_classes']])
    cfg.model = model_config(name, opts, len(classes))
    cfg.work_dir = work_dir
    root = data_root.rstrip('/') + '/'
    size = (opts['size'], opts['size'])
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dl = cfg[loader]
        dl.dataset.data_root = root
        dl.dataset.metainfo = dict(classes=classes)
        for step in dl.dataset.pipeline:
            if step['type'] == 'Resize':
                step['scale'] = size
        dl.num_workers = opts['workers']
        dl.persistent_workers = opts['workers'] > 0
    cfg.train_dataloader.batch_size = opts['batch']
    cfg.train_dataloader.sampler = dict(type='InfiniteSampler', shuffle=True)
    cfg.val_evaluator.ann_file = root + 'annotations/instances_val.json'
    cfg.test_evaluator = cfg.val_evaluator
    cfg.train_cfg = dict(
        type='IterBasedTrainLoop',
        max_iters=opts['iters'],
        val_interval=opts['val_interval'])
    # constant lr: no warm-up, no decay (the same for every model)
    cfg.param_scheduler = []
    cfg.optim_wrapper = dict(
        type='AmpOptimWrapper' if opts['amp'] else 'OptimWrapper',
        optimizer=dict(type='AdamW', lr=opts['lr'], weight_decay=1e-4),
        clip_grad=dict(max_norm=opts['clip'], norm_type=2))
    lr_mults = own_lr_mults(name)
    if lr_mults:
        cfg.optim_wrapper['paramwise_cfg'] = dict(custom_keys=lr_mults)
    cfg.default_hooks.logger = dict(
        type='LoggerHook', interval=50, log_metric_by_epoch=False)
    # a checkpoint at every validation (the last one kept): a stopped run
    # continues with --resume from its last validated iteration
    cfg.default_hooks.checkpoint = dict(
        type='AtomicCheckpointHook',
        interval=opts['val_interval'],
        by_epoch=False,
        max_keep_ckpts=1)
    cfg.log_processor = dict(type='LogProcessor', window_size=50,
                             by_epoch=False)
    cfg.randomness = dict(seed=seed)
    # mmengine keeps one Visualizer per name: a fresh name per run, or a
    # later run in this process (another model, a resumed one) would write
    # its metrics to the first run's vis_data
    cfg.visualizer.name = (
        f'convergence_{next(_RUN_IDS)}_{osp.abspath(work_dir)}')
    cfg.auto_scale_lr = dict(enable=False, base_batch_size=opts['batch'])
    cfg.launcher = 'none'
    if device == 'cpu':
        cfg.env_cfg.dist_cfg = dict(backend='gloo')
    return cfg


def read_val_metrics(log_dir: str) -> List[Dict[str, float]]:
    """``[{iteration, mAP, mAP_50}]`` from a run's ``vis_data/scalars.json``."""
    path = osp.join(log_dir, 'vis_data', 'scalars.json')
    rows = []
    with open(path) as f:
        for line in f:
            record = json.loads(line)
            if 'coco/bbox_mAP' in record:
                rows.append(
                    dict(iteration=int(record['step']),
                         mAP=float(record['coco/bbox_mAP']),
                         mAP_50=float(record['coco/bbox_mAP_50'])))
    if not rows:
        raise RuntimeError(f'{path} holds no coco/bbox_mAP value')
    return rows


def check_data(data_root: str, opts: Dict[str, Any], data_seed: int) -> None:
    """Refuse a data folder that is not the set the recipe asks for.

    A reused ``--out`` or ``--data-root`` may hold a set drawn for other
    options; training on it would give a curve of another study. Image count,
    size and classes are read from the COCO files; the data seed and the
    objects per image from ``info.generator``, which the generator records
    (a folder drawn before it did is checked without them, and said so).
    """
    want = dict(seed=data_seed, objects=[opts['min_objects'],
                                         opts['max_objects']])
    flags = dict(seed='--data-seed', objects='--min-objects/--max-objects')
    problems, unrecorded = [], False
    for split in ('train', 'val'):
        path = osp.join(data_root, 'annotations', f'instances_{split}.json')
        with open(path) as f:
            coco = json.load(f)
        found = dict(
            images=len(coco['images']),
            categories=len(coco['categories']),
            sizes=sorted({(im['width'], im['height'])
                          for im in coco['images']}))
        asked = dict(images=opts[f'num_{split}'],
                     categories=opts['num_classes'],
                     sizes=[(opts['size'], opts['size'])])
        problems += [
            f'{path}: {key} {found[key]}, the recipe asks for {asked[key]} '
            f'({flag})' for key, flag in (
                ('images', f'--num-{split}'), ('categories', '--num-classes'),
                ('sizes', '--size')) if found[key] != asked[key]
        ]
        generator = coco.get('info', {}).get('generator')
        if generator is None:
            unrecorded = True
            continue
        problems += [
            f'{path}: drawn with {key} {generator.get(key)}, the recipe asks '
            f'for {want[key]} ({flags[key]})' for key in want
            if generator.get(key) != want[key]
        ]
    if problems:
        raise ValueError(
            f'data folder {data_root} is not the set this run asks for:\n  '
            + '\n  '.join(problems) + '\nuse another --out / --data-root or '
            'delete that folder to regenerate it')
    if unrecorded:
        print(f'note: {data_root} does not record its data seed and objects '
              'per image (drawn before the generator did): checked only its '
              'image count, size and classes', flush=True)


def read_curves(path: str) -> List[Dict[str, Any]]:
    """The rows of a ``convergence.csv`` written by :func:`main`."""
    with open(path) as f:
        return [
            dict(model=r['model'], iteration=int(r['iteration']),
                 mAP=float(r['mAP']), mAP_50=float(r['mAP_50']))
            for r in csv.DictReader(f)
        ]


def train_one(name: str,
              opts: Dict[str, Any],
              data_root: str,
              out: str,
              seed: int,
              device: str,
              resume: bool = False) -> List[Dict[str, Any]]:
    """Train one model; its validations ``[{model, iteration, mAP, mAP_50}]``.

    With ``resume`` the run continues from the last checkpoint in its work
    dir, and the curve joins the earlier runs' validations up to that
    checkpoint's iteration with the new run's.
    """
    import torch
    from mmengine.runner import Runner, find_latest_checkpoint
    work_dir = osp.join(out, name.replace(' ', '_').lower())
    cfg = run_config(name, opts, data_root, work_dir, seed, device)
    cfg.resume = resume
    earlier: List[Dict[str, float]] = []
    if resume:
        checkpoint = find_latest_checkpoint(work_dir)
        if checkpoint is None:
            raise FileNotFoundError(
                f'--resume: no checkpoint in {work_dir} (train {name!r} '
                'without --resume first)')
        earlier_logs = sorted(
            d for d in glob.glob(osp.join(work_dir, '*', 'vis_data'))
            if osp.isfile(osp.join(d, 'scalars.json')))
    runner = Runner.from_cfg(cfg)  # imports the plugin: safe checkpoint load
    if resume:
        start = torch.load(checkpoint, map_location='cpu',
                           weights_only=True)['meta']['iter']
        by_iter: Dict[int, Dict[str, float]] = {}
        for log in earlier_logs:  # oldest first: a rerun's value wins
            for r in read_val_metrics(osp.dirname(log)):
                if r['iteration'] <= start:
                    by_iter[r['iteration']] = r
        earlier = [by_iter[i] for i in sorted(by_iter)]
    runner.train()
    return [
        dict(model=name, **r)
        for r in earlier + read_val_metrics(runner.log_dir)
    ]


def summarize(curves: List[Dict[str, Any]], iters: int) -> List[Dict]:
    """Per model: mAP at the half-way and final validation, and the first
    validated iteration reaching DETR's final mAP."""
    by_model: Dict[str, List[Dict[str, Any]]] = {}
    for row in curves:
        by_model.setdefault(row['model'], []).append(row)
    for rows in by_model.values():
        rows.sort(key=lambda r: r['iteration'])
    detr = by_model.get('DETR')
    target = detr[-1]['mAP'] if detr else None
    detr_iter = None
    if detr:
        detr_iter = next(r['iteration'] for r in detr if r['mAP'] >= target)
    summary = []
    for name, rows in by_model.items():
        half = min(rows, key=lambda r: abs(r['iteration'] - iters / 2))
        reach = None
        if target is not None:
            reach = next(
                (r['iteration'] for r in rows if r['mAP'] >= target), None)
        summary.append(
            dict(
                model=name,
                half_iteration=half['iteration'],
                mAP_half=half['mAP'],
                final_iteration=rows[-1]['iteration'],
                mAP_final=rows[-1]['mAP'],
                detr_final_mAP=target,
                iters_to_detr_final=reach if reach is not None else
                'not reached',
                fraction_of_detr_iters=(reach / detr_iter)
                if reach is not None and detr_iter else ''))
    return summary


def plot(curves: List[Dict[str, Any]], path: str, title: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for name in dict.fromkeys(r['model'] for r in curves):
        rows = sorted((r for r in curves if r['model'] == name),
                      key=lambda r: r['iteration'])
        ax.plot([r['iteration'] for r in rows], [r['mAP'] for r in rows],
                marker='o', markersize=3, label=name)
    ax.set_xlabel('training iteration')
    ax.set_ylabel('COCO bbox mAP (val)')
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    print(f'wrote {path}')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        epilog='models (--models):\n' + MODEL_CHOICES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--full', action='store_true',
                        help='the GPU preset (see the module docstring)')
    parser.add_argument('--out', default='work_dirs/convergence')
    parser.add_argument('--data-root', default=None,
                        help='synthetic shapes folder (generated when '
                        'missing; default <out>/data)')
    parser.add_argument('--models', nargs='+', default=list(ALL_MODELS),
                        choices=list(ALL_MODELS),
                        help='models to train, one after another (default: '
                        'all; what each keeps of its own design: below)')
    parser.add_argument('--seed', type=int, default=0,
                        help='training seed')
    parser.add_argument('--data-seed', type=int, default=0,
                        help='seed of the generated data (used only when '
                        'the data folder is missing)')
    parser.add_argument('--device', default=None,
                        help='informational: mmengine uses CUDA if visible')
    parser.add_argument('--resume', action='store_true',
                        help='continue each model from the last checkpoint '
                        'in <out>/<model> (e.g. to a larger --iters); the '
                        'curve joins the earlier validations')
    parser.add_argument('--plot-only', action='store_true',
                        help='re-plot <out>/convergence.csv, train nothing')
    parser.add_argument('--smca-beta', type=float, default=None,
                        help='SMCA prior smoothing beta (default: the '
                        'config\'s, the reference 8)')
    parser.add_argument('--smca-prior-unit', type=float, default=None,
                        help='SMCA prior unit in feature-map cells, all SMCA '
                        'models (default: '
                        'cells on the short side / 25, see '
                        'smca_prior_unit(); 1 = cells, as the reference)')
    for key, value in PRESETS['cpu'].items():
        if isinstance(value, bool):
            parser.add_argument(f'--{key.replace("_", "-")}', type=int,
                                choices=[0, 1], default=None)
        else:
            parser.add_argument(f'--{key.replace("_", "-")}',
                                type=type(value), default=None)
    args = parser.parse_args(argv)
    opts = dict(PRESETS['full' if args.full else 'cpu'])
    for key in opts:
        value = getattr(args, key)
        if value is not None:
            opts[key] = type(opts[key])(value)
    if opts['iters'] < 1 or not 1 <= opts['val_interval'] <= opts['iters']:
        parser.error('need --iters >= 1 and 1 <= --val-interval <= --iters')
    if not 1 <= opts['num_classes'] <= 4:
        parser.error('--num-classes must be in 1..4 (the generator\'s '
                     'classes)')
    if not 0 <= opts['min_objects'] <= opts['max_objects']:
        parser.error('need 0 <= --min-objects <= --max-objects')
    if opts['size'] < 32:
        parser.error('--size must be at least 32 (the generator\'s minimum)')
    for key in ('smca_beta', 'smca_prior_unit'):
        value = getattr(args, key)
        if value is not None and not value > 0:
            parser.error(f'--{key.replace("_", "-")} must be > 0, got '
                         f'{value}')
        opts[key] = value
    args.opts = opts
    return args


def main(argv: Optional[List[str]] = None) -> List[Dict]:
    args = parse_args(argv)
    opts = args.opts
    os.makedirs(args.out, exist_ok=True)
    curve_csv = osp.join(args.out, 'convergence.csv')
    if args.plot_only:
        curves = read_curves(curve_csv)
    else:
        import torch
        device = args.device or ('cuda' if torch.cuda.is_available() else
                                 'cpu')
        if opts['amp'] and device == 'cpu':
            opts['amp'] = False  # AmpOptimWrapper needs CUDA
        data_root = args.data_root or osp.join(args.out, 'data')
        val_json = osp.join(data_root, 'annotations', 'instances_val.json')
        if not osp.isfile(val_json):
            common.load_tool(
                'dataset_generators/generate_synthetic_shapes.py').generate(
                    data_root, num_train=opts['num_train'],
                    num_val=opts['num_val'], size=opts['size'],
                    seed=args.data_seed, num_classes=opts['num_classes'],
                    objects=(opts['min_objects'], opts['max_objects']))
        check_data(data_root, opts, args.data_seed)
        print('recipe: ' + json.dumps(
            dict(opts, seed=args.seed, data_seed=args.data_seed,
                 smca_prior_unit=smca_prior_unit(opts),
                 smca_ms_prior_unit=smca_prior_unit(opts, True))),
              flush=True)
        # models trained by an earlier call into the same --out are kept, so
        # the study can run one model at a time (e.g. one per job)
        curves = [
            r for r in (read_curves(curve_csv) if osp.isfile(curve_csv) else
                        []) if r['model'] not in args.models
        ]
        for name in args.models:
            curves += train_one(name, opts, data_root, args.out, args.seed,
                                device, args.resume)
            # written after every model, so a stopped study keeps its curves
            common.write_csv(curve_csv, curves,
                             ['model', 'iteration', 'mAP', 'mAP_50'])
    summary = summarize(curves, opts['iters'])
    common.print_table(summary, [
        'model', 'half_iteration', 'mAP_half', 'final_iteration',
        'mAP_final', 'iters_to_detr_final', 'fraction_of_detr_iters'
    ])
    common.write_csv(osp.join(args.out, 'summary.csv'), summary,
                     list(summary[0].keys()))
    plot(curves, osp.join(args.out, 'convergence.png'),
         f'{opts["size"]} px synthetic shapes, R{opts["depth"]}-'
         f'{"C4" if opts["c4"] else "C5"}, {opts["enc_layers"]}+'
         f'{opts["dec_layers"]} layers, {opts["queries"]} queries, '
         f'batch {opts["batch"]}' +
         # a re-plotted CSV may join runs of several seeds (one per model)
         ('' if args.plot_only else f', seed {args.seed}'))
    return summary


if __name__ == '__main__':
    main()

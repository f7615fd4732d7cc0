"""Check that the files and folders a config names exist, before a run.

Without this, a wrong ``data_root`` surfaces as an error deep inside a
dataset's ``load_data_list`` (or, for folder-scanning datasets, as an empty
dataset), and a wrong ``load_from`` / pretrained path only after the datasets
and the model were built. :func:`check_config_paths` reports every missing
path at once, each with the config field that names it.
"""
import os.path as osp
from typing import Any, Iterable, List, Mapping, Optional

#: Only strings that look like weight files are checked under a
#: ``pretrained`` key: some modules take ``pretrained=True`` or a model name.
WEIGHT_SUFFIXES = ('.pth', '.pt', '.bin', '.ckpt', '.safetensors', '.pkl',
                   '.npz', '.tar')
#: Collections of datasets (mmengine ConcatDataset, RepeatDataset,
#: ClassBalancedDataset, mmdet MultiImageMixDataset ...).
WRAPPED_DATASET_KEYS = ('dataset', 'datasets')


def _is_remote(path: str) -> bool:
    """``torchvision://``, ``open-mmlab://``, ``http(s)://``, ``s3://`` ...

    are resolved by mmengine/backends, not by the local file system.
    """
    return '://' in path


def _join(root: Optional[str], path: str) -> str:
    # same rule as mmengine BaseDataset._join_prefix
    if root and not osp.isabs(path):
        return osp.join(root, path)
    return path


def _missing(field: str, path: str, what: str) -> str:
    return f'{field} = {path!r}: {what} not found ({osp.abspath(path)})'


def _check_dataset(ds: Any, field: str, problems: List[str]) -> None:
    if not isinstance(ds, Mapping):
        return  # a built dataset instance: nothing left to check
    for key in WRAPPED_DATASET_KEYS:
        inner = ds.get(key)
        if isinstance(inner, Mapping):
            _check_dataset(inner, f'{field}.{key}', problems)
        elif isinstance(inner, (list, tuple)):
            for i, sub in enumerate(inner):
                _check_dataset(sub, f'{field}.{key}[{i}]', problems)
    root = ds.get('data_root')
    if isinstance(root, str) and root and not _is_remote(root):
        if not osp.isdir(root):
            problems.append(_missing(f'{field}.data_root', root, 'folder'))
            return  # everything below is relative to the missing root
    ann_file = ds.get('ann_file')
    if isinstance(ann_file, str) and ann_file and not _is_remote(ann_file):
        path = _join(root, ann_file)
        if not osp.isfile(path):
            problems.append(_missing(f'{field}.ann_file', path, 'file'))
    prefixes = ds.get('data_prefix')
    if isinstance(prefixes, Mapping):
        for key, prefix in prefixes.items():
            if not isinstance(prefix, str) or not prefix or _is_remote(
                    prefix):
                continue
            path = _join(root, prefix)
            if not osp.exists(path):
                problems.append(
                    _missing(f'{field}.data_prefix.{key}', path, 'folder'))


def _check_evaluator(evaluator: Any, field: str, problems: List[str]) -> None:
    """``CocoMetric``-like evaluators read their own ``ann_file``."""
    if isinstance(evaluator, (list, tuple)):
        for i, sub in enumerate(evaluator):
            _check_evaluator(sub, f'{field}[{i}]', problems)
    elif isinstance(evaluator, Mapping):
        if 'metrics' in evaluator:  # mmengine Evaluator(metrics=[...])
            _check_evaluator(evaluator['metrics'], f'{field}.metrics',
                             problems)
        ann_file = evaluator.get('ann_file')
        if isinstance(ann_file, str) and ann_file and not _is_remote(
                ann_file) and not osp.isfile(ann_file):
            problems.append(_missing(f'{field}.ann_file', ann_file, 'file'))


def _check_weights(node: Any, field: str, problems: List[str]) -> None:
    """``init_cfg=dict(type='Pretrained', checkpoint=...)`` and
    ``pretrained='<file>'`` anywhere in the model config."""
    if isinstance(node, (list, tuple)):
        for i, sub in enumerate(node):
            _check_weights(sub, f'{field}[{i}]', problems)
        return
    if not isinstance(node, Mapping):
        return
    if node.get('type') in ('Pretrained', 'PretrainedInit'):
        ckpt = node.get('checkpoint')
        if isinstance(ckpt, str) and not _is_remote(ckpt) and not osp.isfile(
                ckpt):
            problems.append(
                _missing(f'{field}.checkpoint', ckpt, 'pretrained checkpoint'))
    for key, value in node.items():
        sub_field = f'{field}.{key}'
        if (key == 'pretrained' and isinstance(value, str)
                and not _is_remote(value)
                and (value.endswith(WEIGHT_SUFFIXES) or osp.sep in value)
                and not osp.isfile(value)):
            problems.append(
                _missing(sub_field, value, 'pretrained checkpoint'))
        elif isinstance(value, (Mapping, list, tuple)):
            _check_weights(value, sub_field, problems)


def check_config_paths(cfg: Mapping,
                       stages: Iterable[str] = ('train', 'val', 'test'),
                       check_load_from: bool = True) -> None:
    """Raise ``FileNotFoundError`` listing every missing path of ``cfg``.

    Checked (relative paths resolve against the current directory, and
    ``ann_file``/``data_prefix`` against the dataset's ``data_root``, as in
    mmengine):

    - for each stage in ``stages``: ``{stage}_dataloader.dataset`` (also
      nested ``dataset``/``datasets`` of wrapper datasets): ``data_root``
      (folder), ``ann_file`` (file), every ``data_prefix`` entry; and
      ``{stage}_evaluator`` ``ann_file`` (COCO metrics);
    - ``load_from`` (when ``check_load_from``);
    - ``model``: every ``init_cfg`` of type ``Pretrained`` (its
      ``checkpoint``) and every ``pretrained`` string that names a weight
      file.

    Paths with a scheme (``torchvision://``, ``https://``, ``s3://`` ...) are
    left to mmengine's loaders.

    Args:
        cfg (Mapping): A config (``mmengine.Config`` or dict).
        stages (Iterable[str]): Which dataloaders/evaluators will be used:
            ``('train', 'val')`` for training, ``('test',)`` for testing.
        check_load_from (bool): Whether to check ``load_from``.

    Raises:
        FileNotFoundError: One line per missing path, e.g.
            ``train_dataloader.dataset.data_root = 'data/x': folder not found
            (/abs/data/x)``.
    """
    problems: List[str] = []
    for stage in stages:
        loader = cfg.get(f'{stage}_dataloader')
        if isinstance(loader, Mapping):
            _check_dataset(
                loader.get('dataset'), f'{stage}_dataloader.dataset',
                problems)
        _check_evaluator(
            cfg.get(f'{stage}_evaluator'), f'{stage}_evaluator', problems)
    load_from = cfg.get('load_from')
    if (check_load_from and isinstance(load_from, str) and load_from
            and not _is_remote(load_from) and not osp.isfile(load_from)):
        problems.append(_missing('load_from', load_from, 'checkpoint file'))
    _check_weights(cfg.get('model'), 'model', problems)
    if problems:
        raise FileNotFoundError(
            'The config names paths that do not exist:\n  ' +
            '\n  '.join(problems))


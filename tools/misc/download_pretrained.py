"""Fetch every pretrained file the given configs need into the torch cache.

Walks each config's ``model`` for every ``init_cfg`` of type ``Pretrained``
(TransFuse's branches, mmdet's ``torchvision://resnet50`` of the SMCA-DETR
backbone, ...), resolves ``torchvision://`` / ``open-mmlab://`` names to
URLs with mmengine's tables and downloads each file once into the torch hub
cache (``$TORCH_HOME/hub/checkpoints``, where training looks for it). Prints
each file with its size and sha256; a file whose name carries a hash prefix
(``resnet34-b627a593.pth``, torch hub's convention) must match it.

Prepare an air-gapped machine from one with internet access::

    python tools/misc/download_pretrained.py \\
        configs/transfuse/transfuse-s_r34-deit-s_1xb16-30e_polyp-352x352.py \\
        configs/smca_detr/smca-detr_r50_8xb2-50e_coco.py
    # then copy ~/.cache/torch/hub/checkpoints (or $TORCH_HOME/hub/
    # checkpoints) to the same place there
"""
import argparse
import hashlib
import os
import os.path as osp
import sys
from typing import Any, Dict, Iterator, List, Optional, Tuple

from mmengine import Config, DictAction
from torch.hub import HASH_REGEX, download_url_to_file

from mmplugin_transfuse.seg.models.utils import checkpoint_url, hub_cache_file


def pretrained_checkpoints(node: Any, field: str = 'model'
                           ) -> Iterator[Tuple[str, str]]:
    """``(config key, checkpoint)`` of every ``Pretrained`` init_cfg."""
    if isinstance(node, dict):
        if node.get('type') in ('Pretrained', 'PretrainedInit') and \
                isinstance(node.get('checkpoint'), str):
            yield f'{field}.checkpoint', node['checkpoint']
        for key, value in node.items():
            yield from pretrained_checkpoints(value, f'{field}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from pretrained_checkpoints(value, f'{field}.{i}')


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(checkpoint: str) -> Dict[str, Any]:
    """Download ``checkpoint`` into the cache (once) and describe the file.

    Returns:
        dict: ``path``, ``size``, ``sha256``, ``status`` (``downloaded``,
        ``cached``, ``local``) and ``url`` (None for a local file).

    Raises:
        FileNotFoundError: a local path that does not exist.
        RuntimeError: the download failed, or the file's sha256 does not
            start with the hash prefix in its name (the partial download is
            not kept).
    """
    url = checkpoint_url(checkpoint)
    if url is None:
        path = osp.expanduser(checkpoint)
        if not osp.isfile(path):
            raise FileNotFoundError(f'{checkpoint}: no such local file')
        status = 'local'
    else:
        path = hub_cache_file(url)
        match = HASH_REGEX.search(osp.basename(path))
        prefix = match.group(1) if match else None
        status = 'cached'
        if not osp.isfile(path):
            os.makedirs(osp.dirname(path), exist_ok=True)
            try:
                # torch checks the prefix and keeps nothing on a mismatch
                download_url_to_file(url, path, prefix, progress=False)
            except Exception as err:
                raise RuntimeError(
                    f'{checkpoint}: downloading {url} into {osp.dirname(path)}'
                    f' failed ({err})') from err
            status = 'downloaded'
    digest = sha256_of(path)
    if url is not None and prefix and not digest.startswith(prefix):
        raise RuntimeError(
            f'{checkpoint}: the cached {path} has sha256 {digest}, not the '
            f'{prefix}... its name promises: a damaged or different file; '
            'delete it and run again')
    return dict(
        path=path,
        size=osp.getsize(path),
        sha256=digest,
        status=status,
        url=url)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Fetch the pretrained files of configs into the torch '
        'hub cache (for machines without internet access).')
    parser.add_argument('configs', nargs='+', help='config files')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings (applied to every config), e.g. '
        'model.backbone.cnn.init_cfg.checkpoint=URL')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    fetched: Dict[str, Dict[str, Any]] = {}
    failed: List[str] = []
    cache_dirs = set()
    for config in args.configs:
        cfg = Config.fromfile(config)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        found = list(pretrained_checkpoints(cfg.get('model', {})))
        print(f'{config}: {len(found)} pretrained file(s)')
        for field, checkpoint in found:
            if checkpoint not in fetched:
                try:
                    fetched[checkpoint] = fetch(checkpoint)
                except (OSError, RuntimeError, ValueError) as err:
                    failed.append(f'{field}: {err}')
                    print(f'  {field}: FAILED: {err}')
                    continue
            info = fetched[checkpoint]
            if info['url'] is not None:
                cache_dirs.add(osp.dirname(info['path']))
            print(f"  {field} = {checkpoint}\n"
                  f"    {info['path']}  {info['size']} bytes  "
                  f"sha256 {info['sha256']}  ({info['status']})")
    for folder in sorted(cache_dirs):
        print(f'For a machine without internet access: copy {folder} to '
              'the same place there (its $TORCH_HOME/hub/checkpoints, '
              '~/.cache/torch/hub/checkpoints by default).')
    if failed:
        print(f'{len(failed)} file(s) could not be fetched:\n  ' +
              '\n  '.join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())

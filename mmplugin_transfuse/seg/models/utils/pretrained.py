"""ImageNet weights for the TransFuse branches, fetched as OpenMMLab does.

A branch's ``init_cfg=dict(type='Pretrained', checkpoint=...)`` is read by
mmengine's ``CheckpointLoader``: ``torchvision://resnet34``,
``open-mmlab://...``, ``http(s)://...`` (downloaded once into the torch hub
cache, ``$TORCH_HOME/hub/checkpoints``) and local paths work as in mmdet/mmseg.

mmengine's http loader calls ``torch.hub.load_state_dict_from_url``, which
passes ``weights_only=False`` explicitly (torch's ``weights_only=True``
default covers only calls that leave it unset, such as mmengine's local
loader). Loads here run under torch's ``TORCH_FORCE_WEIGHTS_ONLY_LOAD``
switch, so a pickle holding more than tensors, plain containers and the types
:mod:`mmplugin_transfuse.utils.safe_checkpoint` allow-lists is refused, never
executed. Each branch then adapts the public layout to its own
(:meth:`PretrainedBranchMixin.convert_pretrained`, with timm's
``adapt_input_conv`` and ``resample_abs_pos_embed``).
"""
import os
import os.path as osp
import pickle
from abc import ABC, abstractmethod
from contextlib import contextmanager
from http.client import HTTPException
from typing import Callable, Dict, Iterator, List, Optional, Tuple
from urllib.error import URLError
from urllib.parse import urlparse

import torch
from mmengine.logging import print_log
from mmengine.runner import CheckpointLoader
from mmengine.runner import checkpoint as mmengine_checkpoint
from timm.models import adapt_input_conv
from torch import Tensor

from mmplugin_transfuse.utils import first_n_and_more

StateDict = Dict[str, Tensor]

#: scheme -> the mmengine function giving its name -> URL table
_MODEL_ZOOS = {
    'torchvision://': 'get_torchvision_models',
    'modelzoo://': 'get_torchvision_models',
    'open-mmlab://': 'get_external_models',
    'openmmlab://': 'get_external_models',
    'mmcls://': 'get_mmcls_models',
}


def checkpoint_url(checkpoint: str) -> Optional[str]:
    """The URL mmengine downloads for ``checkpoint``; None for a local file.

    ``torchvision://resnet34`` -> ``https://download.pytorch.org/models/
    resnet34-b627a593.pth`` (mmengine's tables); ``http(s)://`` as given.

    Raises:
        ValueError: a model-zoo name mmengine does not know.
    """
    if checkpoint.startswith(('http://', 'https://')):
        return checkpoint
    for scheme, table in _MODEL_ZOOS.items():
        if checkpoint.startswith(scheme):
            urls = getattr(mmengine_checkpoint, table)()
            name = checkpoint[len(scheme):]
            if name not in urls:
                raise ValueError(
                    f'{checkpoint!r}: mmengine knows no {scheme} model '
                    f'{name!r} (known: {first_n_and_more(sorted(urls), 8)})')
            url = urls[name]
            # open-mmlab:// may name a file under the mmengine home
            return url if url.startswith(('http://', 'https://')) else None
    return None


def hub_cache_file(url: str) -> str:
    """Where ``torch.hub`` (hence mmengine) caches the download of ``url``."""
    return osp.join(torch.hub.get_dir(), 'checkpoints',
                    osp.basename(urlparse(url).path))


@contextmanager
def _weights_only_loads() -> Iterator[None]:
    """Every ``torch.load`` inside is weights-only, even an explicit
    ``weights_only=False`` (torch.hub's)."""
    names = ('TORCH_FORCE_WEIGHTS_ONLY_LOAD',
             'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD')
    saved = {name: os.environ.pop(name, None) for name in names}
    os.environ[names[0]] = '1'
    try:
        yield
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value


def load_checkpoint_state_dict(checkpoint: str,
                               field: str = 'checkpoint') -> StateDict:
    """The state dict of ``checkpoint``, read weights-only by mmengine.

    Unwraps ``state_dict`` (mmengine), ``model`` (DeiT / timm training
    scripts) and ``module`` containers and a leading ``module.`` (DDP).

    Args:
        checkpoint (str): Local path, ``torchvision://``, ``open-mmlab://``,
            ``http(s)://`` ... (any scheme of mmengine's ``CheckpointLoader``).
        field (str): The config key the value came from, e.g.
            ``model.backbone.cnn.init_cfg.checkpoint``; errors name it and
            say how to point it at a local copy.

    Raises:
        RuntimeError: the download failed, or the file (local, or the
            download in the cache) is truncated / damaged, whatever
            ``torch.load`` raised for it (names the file; for a download
            the URL, the cache folder and the ``--cfg-options`` override).
        FileNotFoundError: a local path that does not exist.
        ValueError: the file holds objects other than tensors and plain
            containers (not unpickled), or something other than a state dict.
    """
    if not isinstance(checkpoint, str) or not checkpoint:
        raise ValueError(f'{field}={checkpoint!r}: expected a path or URL')
    url = checkpoint_url(checkpoint)
    source = checkpoint
    if url is not None:
        cached = hub_cache_file(url)
        source = f'{url} (cached as {cached})'
        offline = (
            f'On a machine without internet access, fetch it where there is '
            f'(python tools/misc/download_pretrained.py CONFIG) and copy it '
            f'into {osp.dirname(cached)}, or give a local copy: '
            f'--cfg-options {field}=/path/to/{osp.basename(cached)}')
    try:
        with _weights_only_loads():
            ckpt = CheckpointLoader.load_checkpoint(
                checkpoint, map_location='cpu', logger='current')
    except pickle.UnpicklingError as err:
        message = str(err).strip()
        if 'weights only load failed' in message.lower():
            first = message.splitlines()[0] if message else ''
            raise ValueError(
                f'{field}={checkpoint!r}: {source} is not a weights-only '
                'checkpoint (it holds objects other than tensors and plain '
                f'containers, which are not unpickled for safety): {first}'
            ) from None
        raise _unreadable(field, checkpoint, url, err) from err
    except FileNotFoundError as err:
        if url is not None:  # removed from the cache while loading
            raise _unreadable(field, checkpoint, url, err) from err
        raise FileNotFoundError(
            f'{field}={checkpoint!r}: no such file. Give a local checkpoint '
            '(.pth), a torchvision:// / open-mmlab:// name or an http(s) URL.'
        ) from None
    except (URLError, HTTPException, ConnectionError, TimeoutError) as err:
        if url is None:
            raise
        raise RuntimeError(
            f'{field}={checkpoint!r}: downloading {url} into the torch hub '
            f'cache {osp.dirname(cached)} failed ({err}). {offline}') from err
    except Exception as err:  # noqa: BLE001 (re-raised naming the file)
        # a damaged zip or pickle raises nearly anything: RuntimeError
        # (zip), EOFError, UnicodeDecodeError, IndexError, KeyError,
        # AssertionError, TypeError ... from deep inside torch.load
        raise _unreadable(field, checkpoint, url, err) from err
    for container in ('state_dict', 'model', 'module'):
        if isinstance(ckpt, dict) and isinstance(ckpt.get(container), dict):
            ckpt = ckpt[container]
            break
    if not isinstance(ckpt, dict):
        raise ValueError(f'{field}={checkpoint!r}: expected a state dict (a '
                         'dict of tensors, possibly under `state_dict` or '
                         f'`model`), got {type(ckpt).__name__}')
    not_tensors = [
        f'{k} ({type(v).__name__})' for k, v in ckpt.items()
        if not isinstance(v, torch.Tensor)
    ]
    if not_tensors:
        raise ValueError(
            f'{field}={checkpoint!r}: expected a state dict of tensors (bare, '
            f'or under `state_dict` / `model`); {len(not_tensors)} entries '
            f'are not tensors: {not_tensors[:8]}')
    return {(k[len('module.'):] if k.startswith('module.') else k): v
            for k, v in ckpt.items()}


def _unreadable(field: str, checkpoint: str, url: Optional[str],
                err: BaseException) -> RuntimeError:
    """Error for a file that exists but is not a readable checkpoint."""
    if url is None:
        return RuntimeError(f'{field}={checkpoint!r}: not a readable '
                            f'checkpoint ({type(err).__name__}: {err})')
    cached = hub_cache_file(url)
    return RuntimeError(
        f'{field}={checkpoint!r}: the download of {url} in the torch hub '
        f'cache {osp.dirname(cached)} is not a readable checkpoint '
        f'({type(err).__name__}: {str(err).strip()[:200]}); it is truncated '
        f'or damaged: delete {cached} to download it again, or give a local '
        f'copy: --cfg-options {field}=/path/to/{osp.basename(cached)}')


def split_keys(state_dict: StateDict,
               drop: Callable[[str], bool]) -> Tuple[StateDict, List[str]]:
    """(the entries ``drop`` does not reject, the rejected keys in order)."""
    kept = {k: v for k, v in state_dict.items() if not drop(k)}
    return kept, [k for k in state_dict if k not in kept]


def adapt_input(state_dict: StateDict, key: str, in_channels: int) -> None:
    """Adapt the RGB first-layer kernel ``state_dict[key]`` ``(O, 3, k, k)``
    to ``in_channels`` in place, with timm's ``adapt_input_conv``: 1 channel
    gets the sum of the RGB kernels, ``n`` channels the RGB kernels repeated
    cyclically (R, G, B, R, ...) and scaled by ``3 / n``."""
    weight = state_dict.get(key)
    if weight is not None and weight.shape[1] != in_channels:
        state_dict[key] = adapt_input_conv(in_channels, weight)


class PretrainedBranchMixin(ABC):
    """``init_weights`` of the TransFuse branches (ResNet, ViT, VGG).

    With ``init_cfg=dict(type='Pretrained', checkpoint=...)`` the file is
    read by :func:`load_checkpoint_state_dict`, converted by the branch's
    :meth:`convert_pretrained` (public ImageNet layout -> the branch's) and
    loaded on top of :meth:`init_from_scratch`. A parameter the file does not
    provide is an error unless the converter left it out on purpose (listed
    in its dropped keys, e.g. a patch embedding of another patch size): such
    parameters keep the random init. Otherwise the branch keeps mmengine's
    init followed by :meth:`init_from_scratch`. Mix it in before
    ``BaseModule``.

    ``init_cfg_key`` is the config key errors name (set by
    :class:`TransFuseBackbone` to e.g.
    ``model.backbone.cnn.init_cfg.checkpoint``).
    """

    init_cfg_key: str = ''

    @abstractmethod
    def convert_pretrained(
            self, state_dict: StateDict) -> Tuple[StateDict, List[str]]:
        """(converted state dict, keys left out) of a public checkpoint."""

    def init_from_scratch(self) -> None:
        """Random init on top of the modules' own (nothing by default)."""

    def init_weights(self) -> None:
        cfg = self.init_cfg
        if not (isinstance(cfg, dict) and cfg.get('type') == 'Pretrained'):
            super().init_weights()
            self.init_from_scratch()
            return
        field = self.init_cfg_key or \
            f'{type(self).__name__}.init_cfg.checkpoint'
        checkpoint = cfg.get('checkpoint')
        state_dict = load_checkpoint_state_dict(checkpoint, field)
        state_dict, dropped = self.convert_pretrained(state_dict)
        own = self.state_dict()
        mismatched = [
            f'{k}: {tuple(v.shape)} in the file, {tuple(own[k].shape)} here'
            for k, v in state_dict.items()
            if k in own and own[k].shape != v.shape
        ]
        if mismatched:
            raise ValueError(
                f'{field}={checkpoint!r} does not fit {type(self).__name__}: '
                f'{len(mismatched)} shapes differ: '
                f"{first_n_and_more(mismatched, 4, sep='; ')}")
        self.init_from_scratch()
        result = self.load_state_dict(state_dict, strict=False)
        missing = [k for k in result.missing_keys if k not in dropped]
        if missing:
            raise ValueError(
                f'{field}={checkpoint!r} does not match '
                f'{type(self).__name__}: {len(missing)} parameters/buffers '
                f'missing: {first_n_and_more(missing, 8)}; unexpected keys: '
                f'{first_n_and_more(result.unexpected_keys, 8)}')
        kept_init = [k for k in result.missing_keys if k in dropped]
        print_log(
            f'{type(self).__name__}: loaded {checkpoint}; left out (not used '
            f'by the branch): {len(dropped)} keys '
            f'{first_n_and_more(dropped, 8)}; kept at random init: '
            f'{kept_init}; unexpected: {result.unexpected_keys}',
            logger='current')
        self._is_init = True

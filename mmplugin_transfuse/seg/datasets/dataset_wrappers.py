"""Several segmentation sets in one dataloader, with one shared pipeline."""
import copy
from typing import List, Optional, Sequence, Union

from mmengine.dataset import BaseDataset, ConcatDataset
from mmseg.registry import DATASETS


@DATASETS.register_module()
class SharedPipelineConcatDataset(ConcatDataset):
    """mmengine ``ConcatDataset`` whose sets all run one ``pipeline``.

    The PraNet protocol tests one model on five sets in one run (TransFuse
    Table 1); the sets differ only in their folders. With mmengine's
    ``ConcatDataset`` each set carries its own pipeline, so a config has no
    ``test_dataloader.dataset.pipeline``, which is where mmseg's
    ``MMSegInferencer`` and mmdet's ``DetInferencer`` read the test
    pipeline (to swap its ``LoadImageFromFile`` for their loader). Here the
    pipeline sits on the wrapper, in the usual place, and is handed to every
    set when it is built, so changing it once (a smaller ``Resize`` for
    instance) changes it for all sets.

    Args:
        datasets (Sequence[dict]): Configs of the sets, without a
            ``pipeline`` of their own.
        pipeline (Sequence[dict]): The pipeline every set runs.
        lazy_init (bool): As for ``ConcatDataset``. Defaults to False.
        ignore_keys (str | list[str], optional): Metainfo keys allowed to
            differ between the sets, as for ``ConcatDataset``.
    """

    def __init__(self,
                 datasets: Sequence[dict],
                 pipeline: Sequence[dict],
                 lazy_init: bool = False,
                 ignore_keys: Union[str, List[str], None] = None) -> None:
        if not datasets:
            raise ValueError(
                f'{type(self).__name__} needs at least one dataset config')
        configs = []
        for i, cfg in enumerate(datasets):
            if isinstance(cfg, BaseDataset) or not hasattr(cfg, 'keys'):
                raise TypeError(
                    f'{type(self).__name__}: datasets[{i}] must be a dataset '
                    f'config (a dict), got {type(cfg).__name__}; the shared '
                    'pipeline is given to each set when it is built')
            if cfg.get('pipeline') is not None:
                raise ValueError(
                    f'{type(self).__name__}: datasets[{i}] '
                    f'({cfg.get("type")}) has a pipeline of its own, but '
                    "every set runs the wrapper's `pipeline`: remove "
                    f'datasets[{i}].pipeline')
            cfg = copy.deepcopy(dict(cfg))
            cfg['pipeline'] = copy.deepcopy(list(pipeline))
            configs.append(cfg)
        self.pipeline = list(pipeline)
        super().__init__(
            configs, lazy_init=lazy_init, ignore_keys=ignore_keys)

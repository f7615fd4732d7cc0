"""mmengine Runner that checks the config's paths first and runs DDP on CPU."""
import logging

import torch
from mmengine.dist import is_distributed
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from .config_paths import check_config_paths
from .cpu_distributed import cpu_model_wrapper_cfg, init_cpu_process_group
from .resume_checkpoint import (BrokenCheckpointError, checkpoint_problem,
                                resume_candidates)


@RUNNERS.register_module()
class CheckedRunner(Runner):
    """``Runner`` that fails early on missing paths and trains DDP on CPU.

    1. ``train()``, ``val()`` and ``test()`` first run
       :func:`check_config_paths` for the stages they are about to use (a
       test-only machine without the training data can still ``test()``),
       ``load_from`` and the model's pretrained checkpoints, then behave as
       mmengine's ``Runner``. A hook cannot do this: ``Runner.train()``
       builds the dataloaders (so the datasets, which read ``data_root``)
       *before* the hooks' ``before_run``.
    2. With a distributed launcher on a machine without CUDA, the process
       group is initialised with gloo without ``torch.cuda.set_device``, and
       the model is wrapped in DDP with ``device_ids=None`` (see
       :mod:`.cpu_distributed`), so ``tools/dist_train.sh CONFIG 2`` trains on
       CPU. With CUDA nothing changes.
    3. ``resume`` reads the checkpoint before resuming
       (:func:`~.resume_checkpoint.checkpoint_problem`: readable, an
       mmengine training checkpoint with optimizer state, this model's
       parameter names and shapes). An explicit checkpoint (``--resume
       PATH``) that fails raises :class:`BrokenCheckpointError` naming it.
       Automatic resume (``--resume``) takes ``last_checkpoint``'s file, or,
       if that one is broken (or ``last_checkpoint`` is empty or names a
       missing file), the newest valid ``*.pth`` of the work dir, with a
       warning naming both; if checkpoints exist but none is valid it
       raises, listing each with its reason (never a silent fresh start). A
       work dir without any checkpoint starts from scratch, as mmengine's
       (with a warning).

    This is the one place that holds this launch behaviour:
    ``tools/train.py``/``tools/test.py`` only turn their options into config
    fields and set ``runner_type = 'CheckedRunner'`` unless the config names
    another runner; mmseg's/mmdet's own scripts (``mim train mmseg|mmdet``)
    build it with ``RUNNERS.build(cfg)`` when the config sets::

        runner_type = 'CheckedRunner'

    It is registered in mmengine's root ``RUNNERS`` registry because
    ``RUNNERS.build`` looks ``runner_type`` up before any default scope is
    set.
    """

    def setup_env(self, env_cfg: dict) -> None:
        if (self.distributed and not is_distributed()
                and not torch.cuda.is_available()):
            dist_cfg = env_cfg.get('dist_cfg', {})
            backend = init_cpu_process_group(self.launcher,
                                             dist_cfg.get('backend', 'gloo'))
            # the config dumped into the log then names the backend in use
            self.cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
            self.cfg.env_cfg.dist_cfg['backend'] = backend
        super().setup_env(env_cfg)

    def wrap_model(self, model_wrapper_cfg, model):
        if (self.distributed and model_wrapper_cfg is None
                and not torch.cuda.is_available()):
            model_wrapper_cfg = cpu_model_wrapper_cfg(
                self.cfg.get('find_unused_parameters', False))
        return super().wrap_model(model_wrapper_cfg, model)

    def _check_paths(self, stages) -> None:
        # self.cfg is the full config when built with from_cfg; the dicts the
        # runner keeps itself also cover runners built from keyword arguments.
        fields = dict(self.cfg.items())
        for stage in ('train', 'val', 'test'):
            loader = getattr(self, f'_{stage}_dataloader', None)
            if isinstance(loader, dict):
                fields[f'{stage}_dataloader'] = loader
        fields['load_from'] = self._load_from
        check_config_paths(fields, stages)

    def _resume_model(self):
        return self.model.module if is_model_wrapper(self.model) \
            else self.model

    def load_or_resume(self) -> None:
        if self._has_loaded or not self._resume:
            return super().load_or_resume()
        model = self._resume_model()
        if self._load_from is not None:
            if '://' not in str(self._load_from):  # remote: mmengine's
                why = checkpoint_problem(self._load_from, model)
                if why is not None:
                    raise BrokenCheckpointError(
                        f'cannot resume from {self._load_from}: it {why}')
            return super().load_or_resume()
        candidates, notes = resume_candidates(self.work_dir)
        rejected = []
        for path in candidates:
            why = checkpoint_problem(path, model)
            if why is None:
                break
            rejected.append(f'{path} {why}')
        else:
            if rejected:
                raise BrokenCheckpointError(
                    f'cannot resume: no valid checkpoint in {self.work_dir}'
                    ':\n  ' + '\n  '.join(notes + rejected))
            print_log(
                f'Resume: no checkpoint in {self.work_dir}' +
                (f' ({"; ".join(notes)})' if notes else '') +
                '; training starts from scratch.',
                logger='current',
                level=logging.WARNING)
            self._resume = False
            return super().load_or_resume()
        if rejected or notes:
            print_log(
                'Resume: ' + '; '.join(notes + rejected) +
                f'. Resuming from the newest valid checkpoint {path} '
                'instead.',
                logger='current',
                level=logging.WARNING)
        self._load_from = path
        return super().load_or_resume()

    def train(self):
        # mmengine keeps val_cfg in _val_loop only together with a val
        # dataloader and evaluator (it refuses a partial set)
        self._check_paths(('train', 'val') if self._val_loop is not None
                          else ('train', ))
        return super().train()

    def val(self):
        self._check_paths(('val', ))
        return super().val()

    def test(self):
        self._check_paths(('test', ))
        return super().test()

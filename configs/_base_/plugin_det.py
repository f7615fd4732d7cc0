# What every config of this package adds to the OpenMMLab runtime (keys
# mmdet's and mmseg's `default_runtime.py` do not define, so it can sit next
# to any mmdet config in `_base_`; `default_runtime_seg.py` inherits it too).
# Loads the plugin loudly.
custom_imports = dict(imports=['mmplugin_transfuse'], allow_failed_imports=False)
# Checks data roots / load_from before building, gloo DDP on CPU.
runner_type = 'CheckedRunner'
# Stops on a NaN/inf loss or NaN/inf gradients naming the iteration, and
# refuses before training a batch/image size whose BatchNorm layers would see
# one value per channel (a config that sets its own custom_hooks must repeat
# these entries: lists replace, they do not merge).
custom_hooks = [
    dict(type='NonFiniteLossHook'),
    dict(type='BatchNormPreflightHook'),
    dict(type='PreemptionCheckpointHook')
]

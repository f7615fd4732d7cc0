# What every detection config of this package adds to mmdet's runtime (keys
# mmdet's `default_runtime.py` does not define, so it can sit next to any
# mmdet config in `_base_`). Loads the plugin loudly.
custom_imports = dict(imports=['mmplugin_transfuse'], allow_failed_imports=False)
# Checks data roots / load_from before building, gloo DDP on CPU.
runner_type = 'CheckedRunner'
# Stops on a NaN/inf loss naming the iteration (a config that sets its own
# custom_hooks must repeat this entry: lists replace, they do not merge).
custom_hooks = [dict(type='NonFiniteLossHook')]

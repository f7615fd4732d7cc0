# Runtime for detection configs (mmdet scope): mmdet's, plus the plugin's
# runner and hooks (`plugin_det.py`). Configs that inherit an mmdet model
# config (which brings mmdet's runtime) list `plugin_det.py` instead and
# repeat the two `default_hooks` entries below.
_base_ = ['mmdet::_base_/default_runtime.py', './plugin_det.py']
default_hooks = dict(
    # the plugin's checkpoint hook (writes each file atomically)
    checkpoint=dict(type='AtomicCheckpointHook'),
    # draw is off unless `test.py --show-dir` turns it on; then every image
    visualization=dict(interval=1))

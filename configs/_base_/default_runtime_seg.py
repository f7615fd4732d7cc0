# Runtime for segmentation configs (mmseg scope). Loads the plugin loudly.
default_scope = 'mmseg'
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
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
tta_model = dict(type='SegTTAModel')

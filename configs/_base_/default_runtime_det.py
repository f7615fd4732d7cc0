# Runtime for detection configs (mmdet scope). Loads the plugin loudly.
default_scope = 'mmdet'
custom_imports = dict(imports=['mmplugin_transfuse'], allow_failed_imports=False)
# Checks data roots / load_from before building, gloo DDP on CPU.
runner_type = 'CheckedRunner'
# Stops on a NaN/inf loss naming the iteration (a config that sets its own
# custom_hooks must repeat this entry: lists replace, they do not merge).
custom_hooks = [dict(type='NonFiniteLossHook')]
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', interval=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # draw is off unless `test.py --show-dir` turns it on; then every image
    visualization=dict(type='DetVisualizationHook', interval=1))
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='DetLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)
log_level = 'INFO'
load_from = None
resume = False

# TransFuse reference optimiser (Adam lr 7e-5, betas (0.5, 0.999), grad-norm
# clip 2.0), iteration-based, constant lr as in the reference code.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=7e-5, betas=(0.5, 0.999)),
    clip_grad=dict(max_norm=2.0, norm_type=2))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2000, val_interval=500)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False, interval=500),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # draw is off unless `test.py --show-dir` turns it on; then every image
    # one file per test image, in a folder per test set where there are several
    visualization=dict(type='SubsetSegVisualizationHook', interval=1))

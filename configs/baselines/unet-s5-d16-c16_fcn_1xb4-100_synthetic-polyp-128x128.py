# `make demo`: the stock mmseg UNet baseline next to TransFuse-S
# (configs/transfuse/transfuse-s_r34-deit-s_1xb4-100_synthetic-polyp-128x128.py)
# on the same synthetic polyp set, with its budget: 100 iterations of batch
# 4, Adam lr 1e-3 (the same optimiser), a validation every 25 iterations,
# seed 0.
#   mim train mmseg configs/baselines/<this file> --work-dir work_dirs/demo/unet
_base_ = ['./unet-s5-d16-c16_fcn_1xb4-600it_synthetic-polyp-128x128.py']
train_dataloader = dict(batch_size=4)
train_cfg = dict(max_iters=100, val_interval=25)
default_hooks = dict(logger=dict(interval=25),
                     checkpoint=dict(interval=100, max_keep_ckpts=1))
randomness = dict(seed=0, deterministic=True)

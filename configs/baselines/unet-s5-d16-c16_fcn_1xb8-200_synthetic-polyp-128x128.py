# `DEMO_FULL=1 make demo`: the stock mmseg UNet baseline next to TransFuse-S
# (configs/transfuse/transfuse-s_r34-deit-s_1xb8-200_synthetic-polyp-128x128.py)
# with its budget: 200 iterations of batch 8, a validation every 100.
#   mim train mmseg configs/baselines/<this file> --work-dir work_dirs/demo/unet
_base_ = ['./unet-s5-d16-c16_fcn_1xb4-100_synthetic-polyp-128x128.py']
train_dataloader = dict(batch_size=8)
train_cfg = dict(max_iters=200, val_interval=100)
default_hooks = dict(logger=dict(interval=20),
                     checkpoint=dict(interval=100, max_keep_ckpts=1))

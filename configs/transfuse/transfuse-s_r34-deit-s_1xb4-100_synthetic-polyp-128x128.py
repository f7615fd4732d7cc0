# `make demo`: TransFuse-S from random initialisation on the synthetic polyp
# set (128x128), 100 iterations of batch 4 with a validation every 25
# iterations, next to mmseg's UNet trained the same way
# (configs/baselines/unet-s5-d16-c16_fcn_1xb4-100_synthetic-polyp-128x128.py).
# The quick cut of the 200-iteration batch-8 config (`DEMO_FULL=1 make demo`
# runs that one): 1/4 of its training compute, so the whole demo stays within
# 10 min on a 2-core machine.
#   python tools/dataset_generators/generate_synthetic_polyp.py \
#       --out data/synthetic_polyp
#   mim train mmseg configs/transfuse/<this file> --work-dir work_dirs/demo/transfuse
_base_ = ['./transfuse-s_r34-deit-s_1xb8-200_synthetic-polyp-128x128.py']
train_dataloader = dict(batch_size=4)
train_cfg = dict(max_iters=100, val_interval=25)
default_hooks = dict(
    logger=dict(interval=25),
    checkpoint=dict(interval=100, max_keep_ckpts=1))

# `make demo`: TransFuse-S from random initialisation on the synthetic polyp
# set (128x128), 100 iterations of batch 4 with a validation every 25
# iterations (the first one is the demo's "early" reference point). The
# quick cut of the 200-iteration batch-8 config (`DEMO_FULL=1 make demo`
# runs that one): 1/4 of its training compute, so the whole demo stays within
# ~10 min on a slow 2-core machine (README, "What `make demo` does").
#   python tools/dataset_generators/generate_synthetic_polyp.py \
#       --out data/synthetic_polyp
#   mim train mmseg configs/transfuse/<this file> --work-dir work_dirs/demo/seg
_base_ = ['./transfuse-s_r34-deit-s_1xb8-200_synthetic-polyp-128x128.py']
train_dataloader = dict(batch_size=4)
train_cfg = dict(max_iters=100, val_interval=25)
default_hooks = dict(
    logger=dict(interval=25),
    checkpoint=dict(interval=100, max_keep_ckpts=1))

# `make demo`: SMCA-DETR (the 36-epoch synthetic-shapes model, same
# architecture, losses, lr and clip) cut to 10 epochs of batch 4, i.e. 500
# iterations, ~1/3 of the 36-epoch config's training compute, so the whole
# demo stays within ~10 min on a slow 2-core machine (README, "What `make
# demo` does"; `DEMO_FULL=1 make demo` runs the 36-epoch config). Validation
# every 2 epochs: the first one is the demo's "early" reference point.
#   python tools/dataset_generators/generate_synthetic_shapes.py \
#       --out data/synthetic_shapes
#   mim train mmdet configs/smca_detr/<this file> --work-dir work_dirs/demo/det
_base_ = ['./smca-detr_r18_1xb8-36e_synthetic-shapes-160x160.py']
train_dataloader = dict(batch_size=4)
max_epochs = 10
train_cfg = dict(max_epochs=max_epochs, val_interval=2)
# the 36-epoch warm-up, and lr / 10 for the last 2 epochs (its last 6)
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], end=max_epochs, milestones=[8])
]
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=1))
auto_scale_lr = dict(base_batch_size=4)

# `DEMO_FULL=1 make demo`: the demo's DETR baseline
# (detr_r18_1xb8-200_synthetic-shapes-128x128.py) trained 1500 iterations,
# a validation every 300, next to
# configs/smca_detr/smca-detr_r18_1xb8-1500_synthetic-shapes-128x128.py.
#   mim train mmdet configs/baselines/<this file> --work-dir work_dirs/demo/detr
_base_ = ['./detr_r18_1xb8-200_synthetic-shapes-128x128.py']
max_iters = 1500
train_cfg = dict(max_iters=max_iters, val_interval=300)
default_hooks = dict(checkpoint=dict(interval=max_iters))

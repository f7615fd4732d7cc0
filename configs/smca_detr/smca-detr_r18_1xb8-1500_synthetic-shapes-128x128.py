# `DEMO_FULL=1 make demo`: the demo's SMCA-DETR
# (smca-detr_r18_1xb8-200_synthetic-shapes-128x128.py) trained 1500
# iterations, a validation every 300 (the convergence study's interval),
# next to configs/baselines/detr_r18_1xb8-1500_synthetic-shapes-128x128.py.
#   mim train mmdet configs/smca_detr/<this file> --work-dir work_dirs/demo/smca
_base_ = ['./smca-detr_r18_1xb8-200_synthetic-shapes-128x128.py']
max_iters = 1500
train_cfg = dict(max_iters=max_iters, val_interval=300)
default_hooks = dict(checkpoint=dict(interval=max_iters))

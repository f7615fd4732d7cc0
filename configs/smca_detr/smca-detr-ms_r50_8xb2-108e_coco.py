# Multi-scale SMCA-DETR, 108 epochs (paper Table 1: 45.6 mAP). The paper does
# not give this schedule's lr-drop epoch; kept at 80 % of training as in the
# 50-epoch schedule (40/50), i.e. epoch 86 (as the single-scale 108e config).
_base_ = './smca-detr-ms_r50_8xb2-50e_coco.py'
max_epochs = 108
train_cfg = dict(max_epochs=max_epochs)
# the 50-epoch MultiStepLR with its end and milestone moved
param_scheduler = [
    dict(_base_.param_scheduler[0], end=max_epochs, milestones=[86])
]

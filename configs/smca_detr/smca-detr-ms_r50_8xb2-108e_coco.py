# Multi-scale SMCA-DETR, 108 epochs (paper Table 1: 45.6 mAP): the 50-epoch
# multi-scale config on the 108-epoch schedule (lr / 10 at epoch 86).
_base_ = [
    '../_base_/models/smca-detr-ms_r50.py',
    '../_base_/datasets/coco_detection_smca.py',
    '../_base_/schedules/schedule_det_adamw_108e.py',
    '../_base_/default_runtime_det.py',
]

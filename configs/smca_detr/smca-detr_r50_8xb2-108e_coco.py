# SMCA-DETR without multi-scale, 108 epochs (paper Table 1: 42.7 mAP): the
# 50-epoch config on the 108-epoch schedule (lr / 10 at epoch 86, see the
# schedule for why 86).
_base_ = [
    '../_base_/models/smca-detr_r50.py',
    '../_base_/datasets/coco_detection_smca.py',
    '../_base_/schedules/schedule_det_adamw_108e.py',
    '../_base_/default_runtime_det.py',
]

# SMCA-DETR without multi-scale (Gao et al., ICCV 2021; paper Table 1 row
# "SMCA w/o multi-scale", 50 epochs, 41.0 mAP): the model (mmdet's DETR-R50
# with the SMCA decoder, 300 queries, focal loss), COCO with the reference
# code's augmentation and train set, DETR's optimiser (AdamW 1e-4 / backbone
# 1e-5, weight decay 1e-4, grad clip 0.1) for 50 epochs with lr / 10 at epoch
# 40, batch 8 GPUs x 2. README.md lists what still differs from the
# reference code.
_base_ = [
    '../_base_/models/smca-detr_r50.py',
    '../_base_/datasets/coco_detection_smca.py',
    '../_base_/schedules/schedule_det_adamw_50e.py',
    '../_base_/default_runtime_det.py',
]

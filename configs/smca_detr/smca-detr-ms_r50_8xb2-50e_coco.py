# Multi-scale SMCA-DETR, the paper's full model (Gao et al., ICCV 2021,
# Sec. 3.3; Table 1 "SMCA", 50 epochs, 43.7 mAP; Table 3 "2Intra-Multi-2Intra",
# 39.5M params; `_base_/models/smca-detr-ms_r50.py` lists what it changes in
# the single-scale model) with the single-scale data and schedule.
# Batch: the authors trained 8 GPUs x 1 image (reference lr 1e-4);
# this config is 8 GPUs x 2 images at the same lr (as the single-scale
# configs, `auto_scale_lr.base_batch_size=16`). With `--auto-scale-lr`, mmdet
# rescales the lr linearly to the actual total batch.
_base_ = [
    '../_base_/models/smca-detr-ms_r50.py',
    '../_base_/datasets/coco_detection_smca.py',
    '../_base_/schedules/schedule_det_adamw_50e.py',
    '../_base_/default_runtime_det.py',
]

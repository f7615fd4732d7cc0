# Paper Table 2 ablation "multi-head, Single scale" (40.4 mAP): one scale per
# head for both axes (reference `type2`).
_base_ = './smca-detr_r50_8xb2-50e_coco.py'
model = dict(decoder=dict(layer_cfg=dict(scale_mode='Single')))

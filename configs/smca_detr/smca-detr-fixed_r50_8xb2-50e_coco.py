# Paper Table 2 ablation "multi-head, Fixed scale" (38.5 mAP): per-head
# centre offsets, no scale predictor (scale 1; reference `type1`).
_base_ = './smca-detr_r50_8xb2-50e_coco.py'
model = dict(decoder=dict(layer_cfg=dict(scale_mode='Fixed')))

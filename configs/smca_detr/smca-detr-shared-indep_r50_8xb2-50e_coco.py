# Paper Table 2 ablation "head-shared, Indep scales" (40.2 mAP): one prior
# (offset + (s_x, s_y)) shared by all 8 heads. The multi-head `Indep` row of
# Table 2 (41.0 mAP) is `smca-detr_r50_8xb2-50e_coco.py`.
_base_ = './smca-detr_r50_8xb2-50e_coco.py'
model = dict(decoder=dict(layer_cfg=dict(head_shared_prior=True)))

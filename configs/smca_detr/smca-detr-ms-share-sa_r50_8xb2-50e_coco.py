# Multi-scale SMCA-DETR, Table 3 weight-sharing ablation: only the
# self-attention of each intra layer is shared by the levels, each level has
# its own FFN (Table 3 'shared SA', 42.8 mAP).
_base_ = './smca-detr-ms_r50_8xb2-50e_coco.py'
model = dict(encoder=dict(intra_share='sa'))

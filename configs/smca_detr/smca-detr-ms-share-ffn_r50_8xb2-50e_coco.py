# Multi-scale SMCA-DETR, Table 3 weight-sharing ablation: only the FFN of
# each intra layer is shared by the levels, each level has its own
# self-attention (Table 3 'shared FFN', 43.0 mAP).
_base_ = './smca-detr-ms_r50_8xb2-50e_coco.py'
model = dict(encoder=dict(intra_share='ffn'))

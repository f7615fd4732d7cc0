# Multi-scale SMCA-DETR, Table 3 weight-sharing ablation: every level has its
# own intra-scale block (no sharing; Table 3 'no share', 42.3 mAP).
_base_ = './smca-detr-ms_r50_8xb2-50e_coco.py'
model = dict(encoder=dict(intra_share='none'))

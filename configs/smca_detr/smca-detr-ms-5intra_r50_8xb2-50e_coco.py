# Multi-scale SMCA-DETR, Table 3 encoder layout ablation: 5Intra (five
# intra-scale layers), 43.3 mAP.
_base_ = './smca-detr-ms_r50_8xb2-50e_coco.py'
model = dict(encoder=dict(layout=['intra'] * 5))

# Multi-scale SMCA-DETR, Table 3 encoder layout ablation: 3Intra (three
# intra-scale layers), 42.9 mAP, 37.9M params.
_base_ = './smca-detr-ms_r50_8xb2-50e_coco.py'
model = dict(encoder=dict(layout=['intra', 'intra', 'intra']))

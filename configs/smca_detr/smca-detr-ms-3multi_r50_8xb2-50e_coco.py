# Multi-scale SMCA-DETR, Table 3 encoder layout ablation: 3Multi (three
# multi-scale layers), 43.3 mAP, 37.9M params.
_base_ = './smca-detr-ms_r50_8xb2-50e_coco.py'
model = dict(encoder=dict(layout=['multi', 'multi', 'multi']))

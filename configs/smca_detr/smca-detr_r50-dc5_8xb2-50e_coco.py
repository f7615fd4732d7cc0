# SMCA-DETR without multi-scale on the DC5 map (stride 16: last ResNet stage
# dilated instead of strided, as DETR-DC5). `feat_stride` is read from the
# backbone (16); the Gaussian prior's grid is therefore 2x finer in cells.
_base_ = './smca-detr_r50_8xb2-50e_coco.py'
model = dict(
    backbone=dict(strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2)))

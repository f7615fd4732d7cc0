# Multi-scale SMCA-DETR, ResNet-101, 50 epochs (paper Table 4: 44.4 mAP, 58M
# params, 218 GFLOPs).
_base_ = './smca-detr-ms_r50_8xb2-50e_coco.py'
model = dict(
    backbone=dict(
        depth=101, init_cfg=dict(checkpoint='torchvision://resnet101')))

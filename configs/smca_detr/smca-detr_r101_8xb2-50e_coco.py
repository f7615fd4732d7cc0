# SMCA-DETR without multi-scale, ResNet-101 backbone, 50 epochs.
_base_ = './smca-detr_r50_8xb2-50e_coco.py'
model = dict(
    backbone=dict(
        depth=101, init_cfg=dict(checkpoint='torchvision://resnet101')))

# SMCA-DETR without multi-scale on the DC5 map (stride 16: last ResNet stage
# dilated instead of strided, as DETR-DC5). The backbone dilates like
# torchvision's `replace_stride_with_dilation` (DETR-DC5 and the reference
# code's `--dilation`: the stage's first block keeps dilation 1; mmdet's
# ResNet would dilate it too). `feat_stride` is read from the backbone (16),
# so centres and keys share the stride-16 cell grid.
# Official DC5 checkpoints: the reference code divides the image size by a
# hard-coded 32 whatever the stride, so its centres sit at half their pixel
# position on this grid. To get the official outputs from such a checkpoint,
# reproduce that with `center_stride=32`, e.g.
#   --cfg-options model.center_stride=32
# (the default None uses the real stride 16).
_base_ = './smca-detr_r50_8xb2-50e_coco.py'
model = dict(
    center_stride=None,
    backbone=dict(
        type='TorchvisionDilatedResNet',
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2)))

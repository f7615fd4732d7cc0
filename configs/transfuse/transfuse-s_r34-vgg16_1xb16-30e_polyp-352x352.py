# Table 5 ablation "R34 + VGG16, parallel, BiFusion": the transformer branch
# is replaced by VGG-16 up to its 1/16 max-pool (512 channels), followed by
# the same two upsampling stages; everything else is TransFuse-S. Both CNNs
# start from torchvision's ImageNet weights.
_base_ = './transfuse-s_r34-deit-s_1xb16-30e_polyp-352x352.py'
model = dict(
    backbone=dict(
        global_branch=dict(
            _delete_=True,
            type='TransFuseVGG',
            init_cfg=dict(type='Pretrained',
                          checkpoint='torchvision://vgg16'))),
    neck=dict(trans_channels=(512, 128, 64)))

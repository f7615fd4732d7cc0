# TransFuse-L* initialised as in the paper: ImageNet ResNet-50 (torchvision)
# and DeiT-B/384 (Facebook's release; pos-embed resized from 24x24 to the
# 24x32 grid, as the reference's TransFuse_L_384). Fetched into the torch hub
# cache on first use (see transfuse-s_r34-deit-s_in1k-pre.py for offline use).
_base_ = './transfuse-l-star_r50-deit-b384.py'
model = dict(
    backbone=dict(
        cnn=dict(
            init_cfg=dict(
                type='Pretrained', checkpoint='torchvision://resnet50')),
        global_branch=dict(
            init_cfg=dict(
                type='Pretrained',
                checkpoint='https://dl.fbaipublicfiles.com/deit/'
                'deit_base_patch16_384-8de9b5d1.pth'))))

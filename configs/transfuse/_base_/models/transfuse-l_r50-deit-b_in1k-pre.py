# TransFuse-L initialised as in the paper: ImageNet ResNet-50 (torchvision's
# IMAGENET1K_V1 release, the weights the reference loads as
# resnet50-19c8e357.pth) and DeiT-B/224 (Facebook's release). Fetched into the
# torch hub cache on first use (see transfuse-s_r34-deit-s_in1k-pre.py for
# offline use).
_base_ = './transfuse-l_r50-deit-b.py'
model = dict(
    backbone=dict(
        cnn=dict(
            init_cfg=dict(
                type='Pretrained', checkpoint='torchvision://resnet50')),
        global_branch=dict(
            init_cfg=dict(
                type='Pretrained',
                checkpoint='https://dl.fbaipublicfiles.com/deit/'
                'deit_base_patch16_224-b5f2ef4d.pth'))))

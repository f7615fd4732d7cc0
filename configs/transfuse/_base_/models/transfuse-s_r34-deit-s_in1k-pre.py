# TransFuse-S initialised as in the paper: ImageNet ResNet-34 (torchvision's
# IMAGENET1K_V1 release, the weights the reference loads as
# resnet34-333f7ec4.pth) and DeiT-S (Facebook's release, {'model': ...}; 8 of
# its 12 blocks kept, pos-embed resized from 14x14 to the config's grid).
# Fetched on first use into the torch hub cache ($TORCH_HOME/hub/checkpoints);
# offline: python tools/misc/download_pretrained.py CONFIG on a machine with
# internet, then copy that folder, or give local files with
#   --cfg-options model.backbone.cnn.init_cfg.checkpoint=PATH
#   --cfg-options model.backbone.global_branch.init_cfg.checkpoint=PATH
_base_ = './transfuse-s_r34-deit-s.py'
model = dict(
    backbone=dict(
        cnn=dict(
            init_cfg=dict(
                type='Pretrained', checkpoint='torchvision://resnet34')),
        global_branch=dict(
            init_cfg=dict(
                type='Pretrained',
                checkpoint='https://dl.fbaipublicfiles.com/deit/'
                'deit_small_patch16_224-cd65a155.pth'))))

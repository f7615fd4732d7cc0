# TransFuse-L* initialised as in the paper: TransFuse-L's ImageNet weights
# with DeiT-B/384 (Facebook's release) in place of DeiT-B/224, its position
# embedding resized from 24x24 to the reference's 24x32 grid (TransFuse_L_384,
# 384x512 inputs; the grid of transfuse-l-star_r50-deit-b384.py).
_base_ = './transfuse-l_r50-deit-b_in1k-pre.py'
model = dict(
    backbone=dict(
        global_branch=dict(
            pos_grid=(24, 32),
            init_cfg=dict(
                checkpoint='https://dl.fbaipublicfiles.com/deit/'
                'deit_base_patch16_384-8de9b5d1.pth'))))

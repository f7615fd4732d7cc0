# Table 5 ablation "R34, sequential": the CNN branch alone (ResNet-34 layer1-3)
# feeding the same attention-gated decoder; no transformer, no fusion, so no
# transformer deep-supervision head (losses: fused 1/4 and 1/16 heads).
_base_ = './transfuse-s_r34-deit-s_1xb16-30e_polyp-352x352.py'
model = dict(
    backbone=dict(composition='sequential', global_branch=None),
    neck=None,
    decode_head=dict(
        in_channels=(256, 128, 64),
        loss_decode=[
            dict(type='StructureLoss', loss_weight=0.5,
                 loss_name='loss_fused'),
            dict(type='StructureLoss', loss_weight=0.2,
                 loss_name='loss_coarse'),
        ]))

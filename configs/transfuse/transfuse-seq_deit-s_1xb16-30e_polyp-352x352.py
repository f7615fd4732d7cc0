# Table 5 ablation "DeiT-S, sequential": the transformer branch alone (DeiT-S,
# 8 blocks, then its two upsampling stages to 1/8 and 1/4) feeding the same
# attention-gated decoder; no CNN, no fusion.
_base_ = './transfuse-s_r34-deit-s_1xb16-30e_polyp-352x352.py'
model = dict(
    backbone=dict(composition='sequential', cnn=None),
    neck=None,
    decode_head=dict(
        in_channels=(384, 128, 64),
        loss_decode=[
            dict(type='StructureLoss', loss_weight=0.5,
                 loss_name='loss_fused'),
            dict(type='StructureLoss', loss_weight=0.2,
                 loss_name='loss_coarse'),
        ]))

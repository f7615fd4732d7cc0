# Table 6 ablation, row 1 "Concat+Res": Residual([g, t]) fusion.
_base_ = './transfuse-s_r34-deit-s_1xb16-30e_isic2017-192x256.py'
model = dict(
    neck=dict(
        with_spatial_attn=False, with_channel_attn=False, with_product=False))

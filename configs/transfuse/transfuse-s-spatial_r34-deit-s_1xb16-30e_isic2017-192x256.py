# Table 6 ablation, row 2 "+ CNN spatial attention": Residual([SA(g), t]).
_base_ = './transfuse-s_r34-deit-s_1xb16-30e_isic2017-192x256.py'
model = dict(
    neck=dict(
        with_spatial_attn=True, with_channel_attn=False, with_product=False))

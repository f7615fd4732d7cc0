# Table 6 ablation, row 3 "+ transformer channel attention":
# Residual([SA(g), CA(t)]). Row 4 (+ product term) is the full TransFuse-S:
# transfuse-s_r34-deit-s_1xb16-30e_isic2017-192x256.py.
_base_ = './transfuse-s_r34-deit-s_1xb16-30e_isic2017-192x256.py'
model = dict(
    neck=dict(
        with_spatial_attn=True, with_channel_attn=True, with_product=False))

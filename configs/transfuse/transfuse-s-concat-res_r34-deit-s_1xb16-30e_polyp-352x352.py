# Table 5 ablation "R34 + DeiT-S, parallel, Concat+Res": BiFusion reduced to
# Residual([g, t]) (no attention, no product term).
_base_ = './transfuse-s_r34-deit-s_1xb16-30e_polyp-352x352.py'
model = dict(
    neck=dict(
        with_spatial_attn=False, with_channel_attn=False, with_product=False))

# Table 5 ablation "R34, sequential": the CNN branch alone (ResNet-34 layer1-3)
# feeding the same attention-gated decoder; no transformer, no fusion, so no
# transformer deep-supervision head (losses: fused 1/4 and 1/16 heads).
# The sequential R34 + DeiT-S config without its transformer: the decoder
# takes the 1/16 ResNet-34 map (256 channels) in its place.
_base_ = './transfuse-seq_r34-deit-s_1xb16-30e_polyp-352x352.py'
model = dict(
    backbone=dict(global_branch=None),
    decode_head=dict(in_channels=(256, 128, 64)))

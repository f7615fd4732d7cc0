# Table 5 ablation "DeiT-S, sequential": the transformer branch alone (DeiT-S,
# 8 blocks, then its two upsampling stages to 1/8 and 1/4) feeding the same
# attention-gated decoder; no CNN, no fusion.
# The sequential R34 + DeiT-S config without its CNN: DeiT-S on the image's
# 16x16 patches again.
_base_ = './transfuse-seq_r34-deit-s_1xb16-30e_polyp-352x352.py'
model = dict(
    backbone=dict(cnn=None, global_branch=dict(in_channels=3, patch_size=16)))

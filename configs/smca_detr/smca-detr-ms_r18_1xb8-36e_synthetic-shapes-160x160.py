# Multi-scale SMCA-DETR on the synthetic coloured-shapes set (4 classes,
# 160x160): a CPU-trainable check that the multi-scale model learns. The recipe
# (data, batch 8, AdamW 4e-4 everywhere, warm-up, clip 1.0, 36 epochs, 20
# queries, 3 decoder layers, no dropout) is the single-scale synthetic
# config's; what changes:
# * ResNet-18 C4 + C5 -> ChannelMapper -> E16, E32, E64 (10x10, 5x5, 3x3 on
#   160 px images), strides 16/32/64 read from the backbone and neck;
# * a 2-layer encoder 'intra', 'multi' (one block of each kind), FFN 512;
# * multi-scale decoder with per-level priors and scale-selection attention.
_base_ = './smca-detr_r18_1xb8-36e_synthetic-shapes-160x160.py'
model = dict(
    type='SMCADETRMultiScale',
    backbone=dict(
        num_stages=4,
        strides=(1, 2, 2, 2),
        dilations=(1, 1, 1, 1),
        out_indices=(2, 3)),
    neck=dict(in_channels=[256, 512], num_outs=3),
    encoder=dict(
        _delete_=True,
        layout=['intra', 'multi'],
        num_levels=3,
        intra_share='all',
        layer_cfg=dict(
            self_attn_cfg=dict(
                embed_dims=256, num_heads=8, dropout=0.0, batch_first=True),
            ffn_cfg=dict(
                embed_dims=256,
                feedforward_channels=512,
                num_fcs=2,
                ffn_drop=0.0,
                act_cfg=dict(type='ReLU', inplace=True)))),
    decoder=dict(layer_cfg=dict(num_levels=3, scale_selection=True)))

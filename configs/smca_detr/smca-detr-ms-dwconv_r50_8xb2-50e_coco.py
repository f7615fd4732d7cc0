# Multi-scale SMCA-DETR with the authors' later encoder (the reference repo's
# archive `Multi_scale_SMCA.zip`, its run `transformer_44_dot_4.py`: 44.4 AP
# at 50 epochs, 40.76M params; R101 45.7), re-written in this package:
# * four levels E8, E16, E32, E64: ResNet C3, C4, C5 -> 1x1 convs to 256, E64
#   from a 3x3 stride-2 conv on the raw C5 (the archive's input_proj_2048_3);
# * encoder (`type='dwconv'`): 6 layers of per-level depthwise 7x7 convs after
#   a shared 1x1 conv, bidirectional fusion with the neighbouring levels
#   through shared cross-level depthwise convs, shared LayerNorm and FFN 1024;
# * decoder: per-level priors with the archive's distance factors
#   (log G x 0.5, 0.5, 1, 2 for strides 8/16/32/64), scale selection per image.
_base_ = './smca-detr-ms_r50_8xb2-50e_coco.py'
model = dict(
    backbone=dict(out_indices=(1, 2, 3)),
    neck=dict(in_channels=[512, 1024, 2048], num_outs=4),
    encoder=dict(
        _delete_=True,
        type='dwconv',  # SMCADWConvEncoder
        num_layers=6,
        layer_cfg=dict(
            embed_dims=256,
            num_levels=4,
            kernel_size=7,
            share_cross_level=True,
            dropout=0.1,
            # the multi-scale encoder's FFN (1024)
            ffn_cfg=_base_.model.encoder.layer_cfg.ffn_cfg)),
    decoder=dict(
        layer_cfg=dict(num_levels=4, level_prior_factors=[0.5, 0.5, 1, 2])))

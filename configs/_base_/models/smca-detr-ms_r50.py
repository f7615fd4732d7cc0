# Multi-scale SMCA-DETR, the paper's full model (Gao et al., ICCV 2021,
# Sec. 3.3; Table 3 "2Intra-Multi-2Intra", 39.5M params). Changes w.r.t. the
# single-scale model:
# * levels E16, E32, E64: ResNet C4 + C5 -> ChannelMapper (1x1 convs to 256,
#   plus a 3x3 stride-2 conv on the raw 2048-ch C5 for 1/64); no 1/8 map, no
#   dilation (paper; the authors confirm it in the reference repository);
# * encoder: 5 layers "2Intra-Multi-2Intra", intra-scale blocks shared by the
#   levels (`intra_share='all'`), FFN 1024 (implied by the paper's 39.5M);
# * decoder: per-level per-head offsets and `Indep` scales, scale-selection
#   attention, FFN 1024;
# * 300 detections per image kept at test time, as the official code does.
_base_ = './smca-detr_r50.py'
model = dict(
    type='SMCADETRMultiScale',
    # strides (16, 32, 64) are read from the backbone and neck
    backbone=dict(out_indices=(2, 3)),
    neck=dict(in_channels=[1024, 2048], num_outs=3),
    encoder=dict(  # SMCAMultiScaleEncoder
        _delete_=True,
        layout=['intra', 'intra', 'multi', 'intra', 'intra'],
        num_levels=3,
        # Table 3 weight sharing of intra layers: 'all' | 'ffn' | 'sa' | 'none'
        intra_share='all',
        # the single-scale encoder layer (self-attention as an
        # SDPAMultiheadAttention) with FFN 1024
        layer_cfg=dict(
            _base_.model.encoder.layer_cfg,
            ffn_cfg=dict(
                _base_.model.encoder.layer_cfg.ffn_cfg,
                feedforward_channels=1024))),
    decoder=dict(  # SMCAMultiScaleDecoder
        layer_cfg=dict(  # SMCAMultiScaleDecoderLayer
            ffn_cfg=dict(feedforward_channels=1024),
            num_levels=3,
            scale_selection=True)))

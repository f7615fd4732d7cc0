# SMCA-DETR without multi-scale (Gao et al., ICCV 2021, Sec. 3.1-3.2): mmdet's
# DETR-R50 model (`mmdet::detr/detr_r50_8xb2-150e_coco.py`: backbone, neck,
# 6+6 layers, FFN 2048, dropout 0.1) with the SMCA decoder, per-head `Indep`
# scales (reference `--dynamic_scale type3`) and beta 8, 300 queries, sigmoid
# focal loss 2 / L1 5 / GIoU 2 with matching costs 2 / 5 / 2.
__attn = dict(embed_dims=256, num_heads=8, dropout=0.1, batch_first=True)
__ffn = dict(
    embed_dims=256,
    feedforward_channels=2048,
    num_fcs=2,
    ffn_drop=0.1,
    act_cfg=dict(type='ReLU', inplace=True))
model = dict(
    type='SMCADETR',
    num_queries=300,
    # `feat_stride` (pixels per feature cell) is read from the backbone:
    # 32 for the C5 map, 16 for DC5; set `feat_stride=` for other backbones
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=1),
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(3, ),
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=False),
        norm_eval=True,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(
        type='ChannelMapper',
        in_channels=[2048],
        kernel_size=1,
        out_channels=256,
        act_cfg=None,
        norm_cfg=None,
        num_outs=1),
    encoder=dict(  # SMCATransformerEncoder
        num_layers=6, layer_cfg=dict(self_attn_cfg=__attn, ffn_cfg=__ffn)),
    decoder=dict(  # SMCATransformerDecoder
        num_layers=6,
        layer_cfg=dict(  # SMCATransformerDecoderLayer
            self_attn_cfg=__attn,
            cross_attn_cfg=__attn,
            ffn_cfg=__ffn,
            # 'Fixed' | 'Single' | 'Indep' (paper Table 2) | 'Cov' (the
            # reference code's type4); one prior per head or head-shared
            scale_mode='Indep',
            head_shared_prior=False,
            beta=8.0,
            # attention through F.scaled_dot_product_attention (log G as an
            # additive mask); False: mmcv's MultiheadAttention, same weights
            # and outputs. `encoder.layer_cfg.fused_attention` (default True)
            # is the encoder's switch.
            fused_attention=True),
        return_intermediate=True),
    positional_encoding=dict(num_feats=128, normalize=True),
    bbox_head=dict(
        type='SMCADETRHead',
        num_classes=80,
        embed_dims=256,
        # the reference divides the class loss by the box count averaged
        # over all processes (as it does L1/GIoU), not by each process's own
        sync_cls_avg_factor=True,
        loss_cls=dict(
            type='FocalLoss',
            use_sigmoid=True,
            gamma=2.0,
            alpha=0.25,
            loss_weight=2.0),
        loss_bbox=dict(type='L1Loss', loss_weight=5.0),
        loss_iou=dict(type='GIoULoss', loss_weight=2.0)),
    train_cfg=dict(
        assigner=dict(
            type='HungarianAssigner',
            match_costs=[
                # the reference matcher's log eps is 1e-8 (mmdet's 1e-12)
                dict(type='FocalLossCost', weight=2.0, eps=1e-8),
                dict(type='BBoxL1Cost', weight=5.0, box_format='xywh'),
                dict(type='IoUCost', iou_mode='giou', weight=2.0)
            ])),
    # the reference post-processing keeps the 300 best (query, class) pairs
    # per image and COCO AP counts them all (COCOeval's maxDets=100 limits
    # detections per image *and category*, not per image)
    test_cfg=dict(max_per_img=300))

# TransFuse-S: ResNet-34 (layer1-3) || DeiT-S truncated to 8 blocks, BiFusion
# at 1/16, 1/8, 1/4, attention-gated decoder, three deep-supervision heads.
# Binary by default (num_classes=2, out_channels=1, sigmoid, threshold 0.5).
# Random initialisation; the paper configs start from ImageNet weights
# through transfuse-s_r34-deit-s_in1k-pre.py.
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size_divisor=16,
    test_cfg=dict(size_divisor=16))
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='TransFuseBackbone',
        cnn=dict(type='TransFuseResNet', depth=34, in_channels=3),
        global_branch=dict(
            type='TransFuseViT',
            in_channels=3,
            patch_size=16,
            embed_dims=384,
            depth=8,
            num_heads=6,
            mlp_ratio=4.,
            # the reference's grid (192x256 input); resized at run time
            pos_grid=(12, 16),
            with_cp=False),
        up_channels=(128, 64),
        composition='parallel',
        drop_rate=0.2),
    neck=dict(
        type='BiFusionNeck',
        cnn_channels=(256, 128, 64),
        trans_channels=(384, 128, 64),
        out_channels=(256, 128, 64),
        reductions=(4, 2, 1),
        drop_rate=0.1,
        with_spatial_attn=True,
        with_channel_attn=True,
        with_product=True,
        norm_cfg=norm_cfg),
    decode_head=dict(
        type='TransFuseHead',
        in_channels=(256, 128, 64, 64),
        channels=64,
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        norm_cfg=norm_cfg,
        align_corners=True,
        # one loss per output (fused 1/4, transformer 1/4, fused 1/16),
        # weighted 0.5 / 0.3 / 0.2 as the paper
        loss_decode=[
            dict(type='StructureLoss', loss_weight=0.5,
                 loss_name='loss_fused'),
            dict(type='StructureLoss', loss_weight=0.3,
                 loss_name='loss_branch'),
            dict(type='StructureLoss', loss_weight=0.2,
                 loss_name='loss_coarse'),
        ]),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

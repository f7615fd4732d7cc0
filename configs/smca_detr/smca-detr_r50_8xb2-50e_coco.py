# SMCA-DETR without multi-scale (Gao et al., ICCV 2021; paper Table 1 row
# "SMCA w/o multi-scale", 50 epochs, 41.0 mAP), written as what it changes in
# mmdet's DETR-R50 config (backbone, neck, 6+6 layers, FFN 2048, AdamW 1e-4 /
# backbone 1e-5, weight decay 1e-4, grad clip 0.1, DETR augmentation, batch
# 8 GPUs x 2): the SMCA decoder with per-head `Indep` scales (reference
# `--dynamic_scale type3`) and beta 8, 300 queries, sigmoid focal loss 2 /
# L1 5 / GIoU 2 with matching costs 2 / 5 / 2, 50 epochs with lr / 10 at
# epoch 40, and the reference code's data and evaluation choices below.
# README.md lists what still differs from the reference code.
_base_ = [
    'mmdet::detr/detr_r50_8xb2-150e_coco.py',
    '../_base_/plugin_det.py',
]
model = dict(
    type='SMCADETR',
    num_queries=300,
    # `feat_stride` (pixels per feature cell) is read from the backbone:
    # 32 for the C5 map, 16 for DC5; set `feat_stride=` for other backbones
    decoder=dict(  # SMCATransformerDecoder
        layer_cfg=dict(  # SMCATransformerDecoderLayer
            # 'Fixed' | 'Single' | 'Indep' (paper Table 2) | 'Cov' (the
            # reference code's type4); one prior per head or head-shared
            scale_mode='Indep',
            head_shared_prior=False,
            beta=8.0,
            # attention through F.scaled_dot_product_attention (log G as an
            # additive mask); False: mmcv's MultiheadAttention, same weights
            # and outputs. `encoder.layer_cfg.fused_attention` (default True)
            # is the encoder's switch.
            fused_attention=True)),
    bbox_head=dict(
        type='SMCADETRHead',
        # the reference divides the class loss by the box count averaged
        # over all processes (as it does L1/GIoU), not by each process's own
        sync_cls_avg_factor=True,
        loss_cls=dict(
            _delete_=True,
            type='FocalLoss',
            use_sigmoid=True,
            gamma=2.0,
            alpha=0.25,
            loss_weight=2.0)),
    train_cfg=dict(
        assigner=dict(match_costs=[
            # the reference matcher's log eps is 1e-8 (mmdet's default 1e-12)
            dict(type='FocalLossCost', weight=2.0, eps=1e-8),
            dict(type='BBoxL1Cost', weight=5.0, box_format='xywh'),
            dict(type='IoUCost', iou_mode='giou', weight=2.0)
        ])),
    # the reference post-processing keeps the 300 best (query, class) pairs
    # per image and COCO AP counts them all (COCOeval's maxDets=100 limits
    # detections per image *and category*, not per image)
    test_cfg=dict(max_per_img=300))

# DETR augmentation as the reference code's `make_coco_transforms`: flip,
# then either a shorter side in 480..800 (step 32, longer side <= 1333) or a
# shorter side in (400, 500, 600) with NO cap on the longer side, a random
# 384..600 crop and the same 480..800 resize. mmdet's DETR config caps the
# (400, 500, 600) resize at 1333; `ResizeShortestEdge` without `max_size`
# does not.
# shorter side 480..800 in steps of 32, longer side <= 1333 (a `__` name
# stays out of the resolved config)
__multi_scales = [(480 + 32 * i, 1333) for i in range(11)]
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='RandomChoice',
        transforms=[[
            dict(
                type='RandomChoiceResize',
                scales=__multi_scales,
                keep_ratio=True)
        ],
                    [
                        dict(
                            type='RandomChoiceResize',
                            scales=[400, 500, 600],
                            resize_type='ResizeShortestEdge'),
                        dict(
                            type='RandomCrop',
                            crop_type='absolute_range',
                            crop_size=(384, 600),
                            allow_negative_crop=True),
                        dict(
                            type='RandomChoiceResize',
                            scales=__multi_scales,
                            keep_ratio=True)
                    ]]),
    dict(type='PackDetInputs')
]
# the reference trains on every image of the annotation file, including the
# ones without boxes (mmdet's COCO base drops them and images < 32 px)
train_dataloader = dict(
    dataset=dict(
        filter_cfg=dict(filter_empty_gt=False, min_size=0),
        pipeline=train_pipeline))

# 50 epochs with the lr / 10 at epoch 40 (reference); the optimiser is
# DETR's (AdamW 1e-4, backbone 1e-5, weight decay 1e-4, grad clip 0.1)
max_epochs = 50
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
         milestones=[40], gamma=0.1)
]
# the plugin's hooks on top of mmdet's runtime (which comes with the DETR
# config, so `default_runtime_det.py` cannot be a second base: mmengine
# refuses a key defined by two bases)
default_hooks = dict(
    checkpoint=dict(type='AtomicCheckpointHook'),
    visualization=dict(interval=1))

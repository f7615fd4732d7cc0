# COCO 2017 as the SMCA-DETR reference code loads it (`datasets/coco.py`):
# mmdet's COCO base with DETR's `make_coco_transforms` augmentation: flip,
# then either a shorter side in 480..800 (step 32, longer side <= 1333) or a
# shorter side in (400, 500, 600) with NO cap on the longer side, a random
# 384..600 crop and the same 480..800 resize. (mmdet's DETR config caps the
# (400, 500, 600) resize at 1333; `ResizeShortestEdge` without `max_size`
# does not.) Layout: data/coco/annotations/instances_{train,val}2017.json,
# data/coco/{train,val}2017/*.jpg.
_base_ = 'mmdet::_base_/datasets/coco_detection.py'
# the 11 scales (a `__` name stays out of the resolved config)
__multi_scales = [(480 + 32 * i, 1333) for i in range(11)]
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=_base_.backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='RandomChoice',
        transforms=[
            [
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
            ]
        ]),
    dict(type='PackDetInputs')
]
# the reference trains on every image of the annotation file, including the
# ones without boxes (mmdet's COCO base drops them and images < 32 px)
train_dataloader = dict(
    dataset=dict(
        filter_cfg=dict(filter_empty_gt=False, min_size=0),
        pipeline=train_pipeline))

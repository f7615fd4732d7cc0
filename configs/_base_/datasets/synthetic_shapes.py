# Synthetic coloured-shapes detection set in COCO layout:
#   data/synthetic_shapes/annotations/instances_{train,val}.json, {train,val}/*.jpg
# Generate it with: python tools/dataset_generators/generate_synthetic_shapes.py
# CheckedCocoDataset: mmdet's CocoDataset + clear errors on a malformed json
dataset_type = 'CheckedCocoDataset'
data_root = 'data/synthetic_shapes/'
metainfo = dict(
    classes=('circle', 'square', 'triangle', 'star'),
    palette=[(220, 20, 60), (0, 128, 255), (0, 200, 0), (255, 200, 0)])
img_scale = (160, 160)  # (w, h); the generated images are already this size
backend_args = None
train_pipeline = [
    dict(type='CheckedLoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
# stock LoadImageFromFile here: the Inferencers (MMSegInferencer /
# DetInferencer) locate and replace the step by this exact name
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
# what the two loaders and their datasets share
__loader = dict(num_workers=2, persistent_workers=True)
__shapes = dict(
    type=dataset_type,
    data_root=data_root,
    metainfo=metainfo,
    backend_args=backend_args)
train_dataloader = dict(
    __loader,
    batch_size=4,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        __shapes,
        ann_file='annotations/instances_train.json',
        data_prefix=dict(img='train/'),
        filter_cfg=dict(filter_empty_gt=False, min_size=1),
        pipeline=train_pipeline))
val_dataloader = dict(
    __loader,
    batch_size=4,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        __shapes,
        ann_file='annotations/instances_val.json',
        data_prefix=dict(img='val/'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='CocoMetric',
    ann_file=data_root + 'annotations/instances_val.json',
    metric='bbox',
    format_only=False,
    backend_args=backend_args)
test_evaluator = val_evaluator

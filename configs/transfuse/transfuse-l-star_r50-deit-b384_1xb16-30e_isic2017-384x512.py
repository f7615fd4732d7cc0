# TransFuse-L* (R50 || DeiT-B/384) at the reference's 384x512 input (24x32
# pos-embed grid, as TransFuse_L_384), ISIC 2017 recipe at that size.
_base_ = [
    './_base_/models/transfuse-l-star_r50-deit-b384.py',
    '../_base_/datasets/isic2017.py',
    './_base_/recipes/transfuse_1xb16-30e.py'
]
crop_size = (384, 512)  # (h, w)
img_scale = (512, 384)  # (w, h)
train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations', binarize_threshold=128),
    dict(
        type='RandomResize',
        scale=img_scale,
        ratio_range=(0.85, 1.15),
        keep_ratio=False),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomRotate', prob=0.5, degree=25, pad_val=0,
         seg_pad_val=255),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='CheckedLoadAnnotations', binarize_threshold=128),
    dict(type='PackSegInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
model = dict(data_preprocessor=dict(size=crop_size, size_divisor=None))

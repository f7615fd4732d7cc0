# TransFuse-L* (R50 || DeiT-B/384) at the reference's 384x512 input (24x32
# pos-embed grid, as TransFuse_L_384), ISIC 2017 recipe at that size.
_base_ = [
    './_base_/models/transfuse-l-star_r50-deit-b384_in1k-pre.py',
    '../_base_/datasets/isic2017.py',
    './_base_/recipes/transfuse_1xb16-30e.py'
]
crop_size = (384, 512)  # (h, w)
img_scale = (512, 384)  # (w, h)
# the dataset base's pipelines at this size (test masks binarised at 128)
train_pipeline = [
    dict(step, scale=img_scale) if step['type'] == 'RandomResize' else
    dict(step, crop_size=crop_size) if step['type'] == 'RandomCrop' else step
    for step in _base_.train_pipeline
]
test_pipeline = [
    dict(step, scale=img_scale) if step['type'] == 'Resize' else
    dict(step, binarize_threshold=128)
    if step['type'] == 'CheckedLoadAnnotations' else step
    for step in _base_.test_pipeline
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
model = dict(data_preprocessor=dict(size=crop_size, size_divisor=None))

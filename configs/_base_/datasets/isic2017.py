# ISIC 2017 lesion segmentation (TransFuse Table 2): train 2000, val 150,
# test 600. Convert the download first (the reference code works at
# 192x256):
#   python tools/dataset_converters/isic2017.py <folder with ISIC-2017_*> \
#       --out data/isic2017 --size 192 256
# Layout: data/isic2017/images/{train,val,test}/*.jpg,
#         data/isic2017/masks/{train,val,test}/*.png (0/1)
# Metrics as the reference code: per image Jaccard (mIoU), Dice (mDice) and
# pixel accuracy (mAcc), then the mean over images.
dataset_type = 'ISIC2017Dataset'
data_root = 'data/isic2017'
crop_size = (192, 256)  # (h, w) of the reference code
img_scale = (256, 192)  # mmcv Resize takes (w, h)
train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    # reference: ShiftScaleRotate(0.15, 0.15, 25), flips, colour jitter
    dict(type='RandomRotate', prob=0.5, degree=25, pad_val=0, seg_pad_val=0),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
# stock LoadImageFromFile here: the Inferencers (MMSegInferencer /
# DetInferencer) locate and replace the step by this exact name
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='CheckedLoadAnnotations'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images/train', seg_map_path='masks/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images/val', seg_map_path='masks/val'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images/test', seg_map_path='masks/test'),
        test_mode=True,
        pipeline=test_pipeline))
val_evaluator = dict(
    type='PerImageDiceMetric', metric_names=['mIoU', 'mDice', 'mAcc'])
test_evaluator = val_evaluator

# ISIC 2017 lesion segmentation (TransFuse Table 2): train 2000, val 150,
# test 600. Convert the download first (the reference code works at
# 192x256):
#   python tools/dataset_converters/isic2017.py <folder with ISIC-2017_*> \
#       --out data/isic2017 --size 192 256
# Layout: data/isic2017/images/{train,val,test}/*.jpg,
#         data/isic2017/masks/{train,val,test}/*.png (0/1)
# Metrics as the reference code: per image Jaccard (mIoU), Dice (mDice) and
# pixel accuracy (mAcc), then the mean over images.
_base_ = ['./medical_seg_common.py']
dataset_type = 'ISIC2017Dataset'
data_root = 'data/isic2017'
crop_size = (192, 256)  # (h, w) of the reference code
img_scale = (256, 192)  # mmcv Resize takes (w, h)
# Training augmentation of the reference code (albumentations
# ShiftScaleRotate(0.15, 0.15, 25 deg), ColorJitter, h/v flips), approximated
# by a random rescale (0.85-1.15) + random crop (shift) + random rotation of
# up to 25 deg; padded pixels get label 255 (ignored by the structure loss,
# see configs/transfuse/README.md for the reference's soft masks);
# ColorJitter -> PhotoMetricDistortion. Rescaled images smaller than the
# crop are padded to it by the model's data preprocessor
# (`size=crop_size`).
train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    # 0/1 masks pass through; 0/255 (JPEG) masks are binarised at 128
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
# stock LoadImageFromFile here: the Inferencers (MMSegInferencer /
# DetInferencer) locate and replace the step by this exact name
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    # as in training: 0/1 masks pass through, 0/255 ones are binarised
    dict(type='CheckedLoadAnnotations', binarize_threshold=128),
    dict(type='PackSegInputs')
]
# One folder per split, no split files: each loader's dataset replaces the
# common base's (`_delete_`, which would otherwise add its `ann_file`).
train_dataloader = dict(
    # DefaultSampler: works with epoch- and iteration-based loops
    sampler=dict(type='DefaultSampler'),
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images/train', seg_map_path='masks/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        train_dataloader['dataset'],
        data_prefix=dict(img_path='images/val', seg_map_path='masks/val'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = dict(
    dataset=dict(
        val_dataloader['dataset'],
        data_prefix=dict(img_path='images/test', seg_map_path='masks/test')))
val_evaluator = dict(
    type='PerImageDiceMetric', metric_names=['mIoU', 'mDice', 'mAcc'])
test_evaluator = val_evaluator

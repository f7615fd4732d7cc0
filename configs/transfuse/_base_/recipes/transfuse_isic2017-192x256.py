# TransFuse ISIC 2017 recipe (reference code): 192x256, Adam lr 7e-5 betas
# (0.5, 0.999), batch 16, grad-norm clip 2.0 (schedule base), 30 epochs,
# reference augmentations.
# On top of the dataset base, the recipe replaces the training pipeline and
# loop (the base's validation/test pipelines and metrics stay).
_base_ = [
    '../../../_base_/datasets/isic2017.py',
    '../../../_base_/default_runtime_seg.py',
    '../../../_base_/schedules/schedule_seg_adam-7e-5_2k.py'
]
crop_size = (192, 256)  # (h, w)
img_scale = (256, 192)  # (w, h) for mmcv Resize
# The reference's albumentations ShiftScaleRotate(0.15, 0.15, 25 deg) is
# approximated by a random rescale (0.85-1.15) + random crop (shift) + random
# rotation of up to 25 deg; padded pixels get label 255 (ignored by the
# structure loss); ColorJitter -> PhotoMetricDistortion; h/v flips.
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
train_dataloader = dict(
    batch_size=16,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(pipeline=train_pipeline))
# Smaller rescaled images are padded to the crop size (label 255); configs
# using this recipe set (the model base and this recipe may not both define
# `model`):
#   model = dict(data_preprocessor=dict(size=crop_size, size_divisor=None))
train_cfg = dict(
    _delete_=True, type='EpochBasedTrainLoop', max_epochs=30, val_interval=1)
log_processor = dict(by_epoch=True)
default_hooks = dict(
    logger=dict(interval=10, log_metric_by_epoch=True),
    checkpoint=dict(
        by_epoch=True, interval=1, max_keep_ckpts=2, save_best='mDice',
        rule='greater'))

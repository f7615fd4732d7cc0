# PraNet polyp benchmark (TransFuse Table 1): train on the 1450 PraNet
# training images (900 Kvasir-SEG + 550 CVC-ClinicDB), test on the five
# PraNet test sets in ONE run. Convert the download first:
#   python tools/dataset_converters/polyp_pranet.py <PraNet data folder> \
#       --out data/polyp_pranet
# Layout: data/polyp_pranet/<set>/{images,masks}/*.png (masks 0/1),
#         data/polyp_pranet/splits/<set>.txt
# The test dataloader concatenates the five sets; every sample carries its
# set name as `subset`, and PerImageDiceMetric reports mDice/mIoU per set
# (a table like the paper's Table 1) plus all images pooled.
dataset_type = 'PolypDataset'
data_root = 'data/polyp_pranet'
crop_size = (352, 352)  # PraNet / TransFuse polyp resolution, (h, w)
img_scale = (352, 352)  # (w, h) for mmcv Resize
test_sets = [
    'Kvasir', 'CVC-ClinicDB', 'CVC-ColonDB', 'CVC-300', 'ETIS-LaribPolypDB'
]
meta_keys = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
             'pad_shape', 'scale_factor', 'flip', 'flip_direction',
             'reduce_zero_label', 'subset')
# Training augmentation of the TransFuse reference code's ISIC recipe (its
# polyp code was not released): albumentations ShiftScaleRotate(0.15, 0.15,
# 25 deg), ColorJitter, h/v flips, approximated by a random rescale
# (0.85-1.15) + random crop (shift) + random rotation of up to 25 deg;
# padded pixels get label 255 (ignored by the structure loss, see
# configs/transfuse/README.md for the reference's soft masks); ColorJitter ->
# PhotoMetricDistortion. Rescaled images smaller than the crop are padded to
# it by the model's data preprocessor (`size=crop_size`).
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
    # loaded after Resize: metrics compare at the original mask resolution
    dict(type='CheckedLoadAnnotations'),
    dict(type='PackSegInputs', meta_keys=meta_keys)
]
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    # DefaultSampler: works with epoch- and iteration-based loops
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='train/images', seg_map_path='train/masks'),
        img_suffix='.png',
        seg_map_suffix='.png',
        ann_file='splits/train.txt',
        pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='ConcatDataset',
        datasets=[
            dict(
                type=dataset_type,
                subset=name,
                data_root=data_root,
                data_prefix=dict(
                    img_path=f'{name}/images', seg_map_path=f'{name}/masks'),
                img_suffix='.png',
                seg_map_suffix='.png',
                ann_file=f'splits/{name}.txt',
                test_mode=True,
                pipeline=test_pipeline) for name in test_sets
        ]))
# PraNet has no validation split: validation runs on the five test sets.
val_dataloader = test_dataloader
test_evaluator = dict(
    type='PerImageDiceMetric',
    metric_names=['mDice', 'mIoU'],
    group_key='subset')
val_evaluator = test_evaluator

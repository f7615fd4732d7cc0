# Kvasir-SEG (raw release, 1000 images) with a seeded random train/val split.
# Convert the download first:
#   python tools/dataset_converters/kvasir_seg.py <Kvasir-SEG folder> \
#       --out data/kvasir_seg --val-ratio 0.1
# Layout: data/kvasir_seg/images/*.jpg, masks/*.png (0/1),
#         splits/{train,val}.txt
dataset_type = 'PolypDataset'
data_root = 'data/kvasir_seg'
crop_size = (352, 352)
train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
# stock LoadImageFromFile here: the Inferencers (MMSegInferencer /
# DetInferencer) locate and replace the step by this exact name
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
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
        data_prefix=dict(img_path='images', seg_map_path='masks'),
        img_suffix='.jpg',
        seg_map_suffix='.png',
        ann_file='splits/train.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images', seg_map_path='masks'),
        img_suffix='.jpg',
        seg_map_suffix='.png',
        ann_file='splits/val.txt',
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='PerImageDiceMetric', metric_names=['mDice', 'mIoU'])
test_evaluator = val_evaluator

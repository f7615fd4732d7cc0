# Kvasir-SEG (raw release, 1000 images) with a seeded random train/val split.
# Convert the download first:
#   python tools/dataset_converters/kvasir_seg.py <Kvasir-SEG folder> \
#       --out data/kvasir_seg --val-ratio 0.1
# Layout: data/kvasir_seg/images/*.jpg, masks/*.png (0/1),
#         splits/{train,val}.txt
_base_ = ['./medical_seg_common.py']
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
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        img_suffix='.jpg',
        seg_map_suffix='.png',
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        train_dataloader['dataset'], test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='PerImageDiceMetric', metric_names=['mDice', 'mIoU'])
test_evaluator = val_evaluator

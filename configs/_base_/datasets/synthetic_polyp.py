# Synthetic polyp-like binary segmentation set in the raw Kvasir-SEG layout:
#   data/synthetic_polyp/{images,masks}/*.jpg, splits/{train,val}.txt
# Generate it with: python tools/dataset_generators/generate_synthetic_polyp.py
# The checked loaders stop on unreadable images, masks of another size than
# their image, and images/masks without their partner (names listed).
_base_ = ['./medical_seg_common.py']
dataset_type = 'PolypDataset'
data_root = 'data/synthetic_polyp'
crop_size = (128, 128)
train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    # 0/255 JPEG masks: pixels >= 128 become class 1
    dict(type='CheckedLoadAnnotations', binarize_threshold=128),
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
    # annotations are loaded after Resize so metrics see the original mask
    # 0/255 JPEG masks: pixels >= 128 become class 1
    dict(type='CheckedLoadAnnotations', binarize_threshold=128),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    dataset=dict(
        type=dataset_type, data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=2,
    dataset=dict(train_dataloader['dataset'], pipeline=test_pipeline))
test_dataloader = val_dataloader
# mmseg's dataset-level IoU/Dice (percent, per class) and the papers' protocol:
# Dice/IoU per image, then the mean over images (fractions, keys per_image/*)
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU', 'mDice']),
    dict(
        type='PerImageDiceMetric',
        metric_names=['mDice', 'mIoU'],
        prefix='per_image')
]
test_evaluator = val_evaluator

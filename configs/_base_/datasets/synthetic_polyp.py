# Synthetic polyp-like binary segmentation set in the raw Kvasir-SEG layout
# with JPEG masks:
#   data/synthetic_polyp/{images,masks}/*.jpg, splits/{train,val}.txt
# Generate it with: python tools/dataset_generators/generate_synthetic_polyp.py
# The Kvasir-SEG base at 128x128, batch 4, with the masks' 0/255 JPEG values
# binarised (pixels >= 128 become class 1). The checked loaders stop on
# unreadable images, masks of another size than their image, and images/masks
# without their partner (names listed).
_base_ = ['./kvasir_seg.py']
data_root = 'data/synthetic_polyp'
crop_size = (128, 128)
train_pipeline, test_pipeline = ([
    dict(step, scale=crop_size) if step['type'] == 'Resize' else
    dict(step, binarize_threshold=128)
    if step['type'] == 'CheckedLoadAnnotations' else step for step in pipeline
] for pipeline in (_base_.train_pipeline, _base_.test_pipeline))
__jpeg_set = dict(data_root=data_root, seg_map_suffix='.jpg')
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    dataset=dict(__jpeg_set, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=2, dataset=dict(__jpeg_set, pipeline=test_pipeline))
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

# MSD Task05 prostate MRI (TransFuse Table 4): 2-D slices of the 32
# labelled volumes, split by volume. Convert the download first:
#   python tools/dataset_converters/prostate_msd.py <Task05_Prostate> \
#       --out data/prostate_msd --val-ratio 0.2
# Layout: data/prostate_msd/images/<vol>_s<z>_<modality>.png,
#         masks/<vol>_s<z>.png (0 bg, 1 PZ, 2 TZ), splits/{train,val}.txt,
#         slices.json (volume id, slice index, spacing in mm per slice)
# Metrics: Dice per class per 3-D volume (slices grouped by volume_id),
# HD95 / HD / ASD in mm on the stacked volumes.
_base_ = ['./medical_seg_common.py']
dataset_type = 'ProstateSliceDataset'
data_root = 'data/prostate_msd'
crop_size = (320, 320)
# Modality per input channel (0 = T2, 1 = ADC): T2/ADC/T2 fills a
# 3-channel stem and is unchanged by bgr_to_rgb.
modality_channels = (0, 1, 0)
meta_keys = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
             'pad_shape', 'scale_factor', 'flip', 'flip_direction',
             'reduce_zero_label', 'volume_id', 'slice_idx', 'num_slices',
             'spacing')
train_pipeline = [
    dict(type='LoadMultiModalSliceFromFiles', channels=modality_channels),
    dict(type='CheckedLoadAnnotations'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='RandomRotate', prob=0.5, degree=15, pad_val=0, seg_pad_val=0),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackSegInputs')
]
# stock LoadImageFromFile reads modality 0 (T2, `img_path`): the Inferencers
# locate and replace the step by this exact name; the next step adds the
# other modalities (or, for a bare image at inference, those of its
# <name>_0001.png ... files, or keeps an array that holds the channels)
test_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='LoadMultiModalSliceFromFiles', channels=modality_channels),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='CheckedLoadAnnotations'),
    dict(type='PackSegInputs', meta_keys=meta_keys)
]
train_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        train_dataloader['dataset'], test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='PerVolumeDiceMetric', volume_key='volume_id'),
    dict(
        type='SurfaceDistanceMetric',
        volume_key='volume_id',
        percentiles=(95, 100))
]
test_evaluator = val_evaluator

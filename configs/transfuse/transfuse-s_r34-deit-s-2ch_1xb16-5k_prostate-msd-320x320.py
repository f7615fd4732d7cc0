# TransFuse-S with a 2-channel input (T2, ADC) on MSD prostate (issue 8): the
# ResNet stem and the patch embedding take 2 channels. ImageNet weights
# given through the branches' init_cfg are adapted when loaded: each RGB
# kernel is averaged over R, G, B and tiled over the 2 inputs, scaled by 3/2
# (mmplugin_transfuse.seg.models.utils.adapt_first_conv).
_base_ = './transfuse-s_r34-deit-s_1xb16-5k_prostate-msd-320x320.py'
modality_channels = (0, 1)  # T2, ADC
crop_size = (320, 320)
meta_keys = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
             'pad_shape', 'scale_factor', 'flip', 'flip_direction',
             'reduce_zero_label', 'volume_id', 'slice_idx', 'num_slices',
             'spacing')
train_pipeline = [
    dict(type='LoadMultiModalSliceFromFiles', channels=modality_channels),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='RandomRotate', prob=0.5, degree=15, pad_val=0, seg_pad_val=0),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadMultiModalSliceFromFiles', channels=modality_channels),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs', meta_keys=meta_keys)
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
model = dict(
    # one grey-level normalisation per MRI channel (slices stored as 0-255)
    data_preprocessor=dict(
        mean=[127.5, 127.5], std=[64.0, 64.0], bgr_to_rgb=False),
    backbone=dict(
        cnn=dict(in_channels=2), global_branch=dict(in_channels=2)))

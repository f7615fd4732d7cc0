# TransFuse-S with a 2-channel input (T2, ADC) on MSD prostate: the ResNet
# stem and the patch embedding take 2 channels. The ImageNet RGB kernels are
# adapted when loaded by timm's adapt_input_conv: the R and G kernels, scaled
# by 3/2.
_base_ = './transfuse-s_r34-deit-s_1xb16-5k_prostate-msd-320x320.py'
modality_channels = (0, 1)  # T2, ADC
# the dataset base's pipelines loading these 2 channels, with mmseg's
# LoadAnnotations in place of CheckedLoadAnnotations
train_pipeline, test_pipeline = ([
    dict(step, channels=modality_channels)
    if step['type'] == 'LoadMultiModalSliceFromFiles' else
    dict(type='LoadAnnotations')
    if step['type'] == 'CheckedLoadAnnotations' else step for step in pipeline
] for pipeline in (_base_.train_pipeline, _base_.test_pipeline))
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
model = dict(
    # one grey-level normalisation per MRI channel (slices stored as 0-255)
    data_preprocessor=dict(
        mean=[127.5, 127.5], std=[64.0, 64.0], bgr_to_rgb=False),
    backbone=dict(
        cnn=dict(in_channels=2), global_branch=dict(in_channels=2)))

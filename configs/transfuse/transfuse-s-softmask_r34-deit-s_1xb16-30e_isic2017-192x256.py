# TransFuse-S on ISIC 2017 trained on the reference code's *soft* targets:
# its process.py resizes the raw 0/255 masks bilinearly to 192x256 and its
# loader trains on mask / 255 (fractional at the boundary), with pixels
# padded by ShiftScaleRotate(border_mode=0) counted as background. The
# default configs binarise the masks and ignore padding (label 255), which
# also works for multi-class masks and 0/1 datasets; this config is the
# switch to the reference behaviour. Convert ISIC *without* --size so that
# the masks keep their full resolution (SoftMask resizes them bilinearly);
# masks already binarised at 192x256 lose the boundary softness.
_base_ = './transfuse-s_r34-deit-s_1xb16-30e_isic2017-192x256.py'
train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='Resize', scale=_base_.img_scale, keep_ratio=False),
    # raw mask values: no binarising, no class-id check
    dict(type='LoadAnnotations'),
    dict(type='SoftMask', scale=_base_.img_scale),
    dict(
        type='RandomResize',
        scale=_base_.img_scale,
        ratio_range=(0.85, 1.15),
        keep_ratio=False),
    dict(type='RandomCrop', crop_size=_base_.crop_size),
    # padding is background (0), as the reference's border_mode=0
    dict(type='RandomRotate', prob=0.5, degree=25, pad_val=0, seg_pad_val=0),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
model = dict(
    data_preprocessor=dict(seg_pad_val=0),
    decode_head=dict(loss_decode=[
        dict(
            type='StructureLoss',
            loss_weight=0.5,
            loss_name='loss_fused',
            soft_target=True),
        dict(
            type='StructureLoss',
            loss_weight=0.3,
            loss_name='loss_branch',
            soft_target=True),
        dict(
            type='StructureLoss',
            loss_weight=0.2,
            loss_name='loss_coarse',
            soft_target=True),
    ]))

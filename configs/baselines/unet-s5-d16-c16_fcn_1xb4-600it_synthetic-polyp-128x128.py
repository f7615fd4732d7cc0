# Stock mmseg UNet (16 base channels) on the synthetic polyp set: a small
# baseline to compare TransFuse against, and the model the set-up tests
# (resume, registration of the data pipeline) train in seconds.
_base_ = [
    'mmseg::_base_/models/fcn_unet_s5-d16.py',
    '../_base_/datasets/synthetic_polyp.py',
    '../_base_/default_runtime_seg.py',
    '../_base_/schedules/schedule_seg_adam-7e-5_2k.py',
]
# mmseg's UNet preprocessor, inputs padded to a multiple of the 16x reduction
data_preprocessor = dict(size_divisor=16)
model = dict(
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(base_channels=16, norm_cfg=dict(type='BN')),
    decode_head=dict(
        in_channels=16,
        channels=16,
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        norm_cfg=dict(type='BN'),
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    auxiliary_head=None,
    test_cfg=dict(mode='whole'))
optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_iters=600, val_interval=300)
default_hooks = dict(checkpoint=dict(interval=300))

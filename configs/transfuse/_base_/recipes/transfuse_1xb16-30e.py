# TransFuse training recipe (reference code): Adam lr 7e-5 betas
# (0.5, 0.999), grad-norm clip 2.0 (schedule base), batch 16 and the
# reference augmentation (dataset base: configs/_base_/datasets/isic2017.py
# or polyp_pranet.py, each at its size), 30 epochs, validation and a
# checkpoint every epoch, best by mDice. Inherit it after the model and the
# dataset base:
#   _base_ = ['./_base_/models/<model>.py',
#             '../_base_/datasets/<dataset>.py',
#             './_base_/recipes/transfuse_1xb16-30e.py']
#   model = dict(data_preprocessor=dict(size=_base_.crop_size,
#                                       size_divisor=None))
# (the model base and the dataset base may not both define `model`, so the
# padding of rescaled images to the crop size is set in the config).
_base_ = [
    '../../../_base_/default_runtime_seg.py',
    '../../../_base_/schedules/schedule_seg_adam-7e-5_2k.py'
]
train_cfg = dict(
    _delete_=True, type='EpochBasedTrainLoop', max_epochs=30, val_interval=1)
log_processor = dict(by_epoch=True)
default_hooks = dict(
    logger=dict(interval=10, log_metric_by_epoch=True),
    checkpoint=dict(
        by_epoch=True, interval=1, max_keep_ckpts=2, save_best='mDice',
        rule='greater'))

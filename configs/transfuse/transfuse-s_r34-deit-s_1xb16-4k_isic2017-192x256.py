# TransFuse-S on ISIC 2017 lesion segmentation (paper Table 2; reference
# code: 192x256, Adam 7e-5, batch 16, ~30 epochs). Test split metrics are
# per-image Jaccard (mIoU), Dice (mDice) and accuracy (mAcc).
#   python tools/dataset_converters/isic2017.py <ISIC 2017 folder> \
#       --out data/isic2017 --size 192 256
#   mim train mmplugin_transfuse configs/transfuse/<this file>
# 4000 iterations of batch 16 are 32 epochs of the 2000 training images.
_base_ = [
    './_base_/models/transfuse-s_r34-deit-s.py',
    '../_base_/datasets/isic2017.py',
    '../_base_/default_runtime_seg.py',
    '../_base_/schedules/schedule_seg_adam-7e-5_2k.py'
]
crop_size = (192, 256)
train_dataloader = dict(batch_size=16)
train_cfg = dict(max_iters=4000, val_interval=500)
default_hooks = dict(
    checkpoint=dict(
        interval=500, max_keep_ckpts=2, save_best='mDice', rule='greater'))

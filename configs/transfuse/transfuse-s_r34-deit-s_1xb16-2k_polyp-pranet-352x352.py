# TransFuse-S on the PraNet polyp benchmark (paper Table 1): trained on the
# 1450 PraNet training images at 352x352, evaluated on the five PraNet test
# sets in one run; the log prints a table of per-image mDice / mIoU per set
# (Kvasir, CVC-ClinicDB, CVC-ColonDB, CVC-300 = EndoScene, ETIS).
#   python tools/dataset_converters/polyp_pranet.py <PraNet data> \
#       --out data/polyp_pranet
#   mim train mmplugin_transfuse configs/transfuse/<this file>
#   mim test mmplugin_transfuse configs/transfuse/<this file> \
#       --checkpoint work_dirs/<...>/iter_2000.pth
# 2000 iterations of batch 16 are ~22 epochs of the 1450 images (PraNet
# trains 20 epochs). Load ImageNet weights for the two branches from local
# files (see the model base) to approach the paper's numbers.
_base_ = [
    './_base_/models/transfuse-s_r34-deit-s.py',
    '../_base_/datasets/polyp_pranet.py',
    '../_base_/default_runtime_seg.py',
    '../_base_/schedules/schedule_seg_adam-7e-5_2k.py'
]
crop_size = (352, 352)
train_dataloader = dict(batch_size=16)
# every validation runs the 798 test images: once, at the end
train_cfg = dict(max_iters=2000, val_interval=2000)
default_hooks = dict(checkpoint=dict(interval=500, max_keep_ckpts=2))

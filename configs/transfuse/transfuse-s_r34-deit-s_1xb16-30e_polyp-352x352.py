# TransFuse-S, polyp recipe (paper Table 1), 352x352 input: trained on the
# 1450 PraNet training images, evaluated on the five PraNet test sets in one
# run (the log prints per-image mDice / mIoU per set). Convert the download:
#   python tools/dataset_converters/polyp_pranet.py <PraNet data> --out data/polyp_pranet
#   mim train mmseg configs/transfuse/<this file>
# Both branches start from ImageNet weights (the model base's init_cfg).
_base_ = [
    './_base_/models/transfuse-s_r34-deit-s_in1k-pre.py',
    '../_base_/datasets/polyp_pranet.py',
    './_base_/recipes/transfuse_1xb16-30e.py'
]
# pos-embed stored at the 22x22 grid of 352x352 inputs (DeiT's 14x14 is
# resized to 22x22 when loaded).
model = dict(
    data_preprocessor=dict(size=_base_.crop_size, size_divisor=None),
    backbone=dict(global_branch=dict(pos_grid=(22, 22))))

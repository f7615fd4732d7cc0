# TransFuse-L (R50 || DeiT-B), polyp recipe, 352x352 input.
_base_ = [
    './_base_/models/transfuse-l_r50-deit-b_in1k-pre.py',
    '../_base_/datasets/polyp_pranet.py',
    './_base_/recipes/transfuse_1xb16-30e.py'
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size, size_divisor=None),
    backbone=dict(global_branch=dict(pos_grid=(22, 22))))

# TransFuse-S, polyp recipe (Table 1), 352x352 input.
_base_ = [
    './_base_/models/transfuse-s_r34-deit-s.py',
    './_base_/recipes/transfuse_polyp-352x352.py'
]
# pos-embed stored at the 22x22 grid of 352x352 inputs (an ImageNet DeiT
# checkpoint given via init_cfg is resized 14x14 -> 22x22 when loaded).
model = dict(
    data_preprocessor=dict(size=_base_.crop_size, size_divisor=None),
    backbone=dict(transformer=dict(pos_grid=(22, 22))))

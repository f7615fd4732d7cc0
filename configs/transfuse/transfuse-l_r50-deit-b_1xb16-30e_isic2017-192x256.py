# TransFuse-L (R50 || DeiT-B), ISIC 2017 recipe; 12x16 pos-embed grid as the
# reference's TransFuse_L.
_base_ = [
    './_base_/models/transfuse-l_r50-deit-b_in1k-pre.py',
    '../_base_/datasets/isic2017.py',
    './_base_/recipes/transfuse_1xb16-30e.py'
]
model = dict(data_preprocessor=dict(size=_base_.crop_size, size_divisor=None))

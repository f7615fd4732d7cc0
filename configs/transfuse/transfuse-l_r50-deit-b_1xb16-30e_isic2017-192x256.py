# TransFuse-L (R50 || DeiT-B), ISIC 2017 recipe; 12x16 pos-embed grid as the
# reference's TransFuse_L.
_base_ = [
    './_base_/models/transfuse-l_r50-deit-b.py',
    './_base_/recipes/transfuse_isic2017-192x256.py'
]
model = dict(data_preprocessor=dict(size=_base_.crop_size, size_divisor=None))

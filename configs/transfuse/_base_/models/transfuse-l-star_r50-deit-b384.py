# TransFuse-L*: TransFuse-L with DeiT-B/384; the reference's L_384 stores the
# position embedding at a 24x32 grid (384x512 inputs).
_base_ = './transfuse-l_r50-deit-b.py'
model = dict(backbone=dict(global_branch=dict(pos_grid=(24, 32))))

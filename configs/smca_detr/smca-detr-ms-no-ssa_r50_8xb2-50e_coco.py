# Multi-scale SMCA-DETR without scale-selection attention (Table 3, 42.6 mAP).
# The paper does not say what replaces it; here each query attends with one
# softmax over the keys of all levels, each key biased by its own level's
# log G (see SMCAMultiScaleDecoderLayer).
_base_ = './smca-detr-ms_r50_8xb2-50e_coco.py'
model = dict(decoder=dict(layer_cfg=dict(scale_selection=False)))

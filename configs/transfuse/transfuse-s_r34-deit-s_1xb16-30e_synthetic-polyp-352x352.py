# The TransFuse-S polyp recipe (352x352, Adam 7e-5, batch 16, clip 2.0, the
# reference augmentations, 30 epochs) on the generated synthetic polyp set, to
# try the recipe without the PraNet data (and, unlike the paper recipe,
# without ImageNet weights: random initialisation, nothing downloaded):
#   python tools/dataset_generators/generate_synthetic_polyp.py \
#       --out data/synthetic_polyp
_base_ = ['./transfuse-s_r34-deit-s_1xb16-30e_polyp-352x352.py']
model = dict(
    backbone=dict(cnn=dict(init_cfg=None), global_branch=dict(init_cfg=None)))
data_root = 'data/synthetic_polyp'
crop_size = (352, 352)
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='CheckedLoadAnnotations', binarize_threshold=128),
    dict(type='PackSegInputs')
]
synthetic = dict(
    type='PolypDataset',
    data_root=data_root,
    data_prefix=dict(img_path='images', seg_map_path='masks'),
    img_suffix='.jpg',
    seg_map_suffix='.jpg')
train_dataloader = dict(
    dataset=dict(_delete_=True, ann_file='splits/train.txt',
                 pipeline=_base_.train_pipeline, **synthetic))
val_dataloader = dict(
    dataset=dict(_delete_=True, ann_file='splits/val.txt',
                 pipeline=test_pipeline, **synthetic))
test_dataloader = val_dataloader
# plain per-image Dice/IoU over the one validation set (no per-set table)
val_evaluator = dict(
    type='PerImageDiceMetric', metric_names=['mDice', 'mIoU'],
    _delete_=True)
test_evaluator = val_evaluator

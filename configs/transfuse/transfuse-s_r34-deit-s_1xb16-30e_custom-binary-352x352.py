# TransFuse-S with the paper's polyp recipe (Table 1: 352x352, 30 epochs) on
# your own binary segmentation data. Masks: 0/1 or 0/255 PNGs (pixels >= 128
# are foreground). Layout (split files list names without suffix):
#   data/my_binary/images/<name>.png, masks/<name>.png
#   data/my_binary/splits/train.txt, splits/val.txt
_base_ = './transfuse-s_r34-deit-s_1xb16-30e_polyp-352x352.py'
own_set = dict(
    type='Medical2DDataset',
    data_root='data/my_binary',
    metainfo=dict(classes=('background', 'lesion')),
    data_prefix=dict(img_path='images', seg_map_path='masks'))
train_dataloader = dict(dataset=dict(own_set, ann_file='splits/train.txt'))
# one validation set in place of the five PraNet test sets
val_dataloader = dict(dataset=dict(
    _delete_=True, ann_file='splits/val.txt', test_mode=True,
    pipeline=_base_.test_pipeline, **own_set))
test_dataloader = val_dataloader

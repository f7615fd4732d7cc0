# TransFuse-S with the paper's hip X-ray recipe (Table 3: 512x512, 4k
# iterations) on your own multi-class data. Masks: uint8 PNGs of class ids
# 0 .. len(classes) - 1 (255 = ignored). Layout (names without suffix):
#   data/my_multiclass/images/<name>.png, masks/<name>.png
#   data/my_multiclass/splits/train.txt, splits/val.txt
_base_ = './transfuse-s_r34-deit-s_1xb8-4k_hip-xray-512x512.py'
classes = ('background', 'liver', 'kidney')
own_set = dict(
    data_root='data/my_multiclass',
    metainfo=dict(classes=classes, palette=[[0, 0, 0], [230, 25, 75],
                                            [60, 180, 75]]),
    meta_file=None, spacing=(1.0, 1.0))  # no meta.json: HD / ASD in pixels
train_dataloader = dict(dataset=own_set)
val_dataloader = dict(dataset=own_set)
test_dataloader = val_dataloader
model = dict(
    decode_head=dict(num_classes=len(classes), out_channels=len(classes)))

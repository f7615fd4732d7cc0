# Template for a private multi-class 2-D set such as the hip X-rays of
# TransFuse Table 3 (pelvis, left femur, right femur; HD and ASD in mm).
# Put the data in this layout (no converter: the data is not public):
#   data/hip_xray/images/<name>.png
#   data/hip_xray/masks/<name>.png          # uint8 class ids 0..3
#   data/hip_xray/splits/{train,val}.txt    # names without suffix
#   data/hip_xray/meta.json                 # {"<name>": {"spacing": [r, c]}}
# (drop meta_file and set `spacing=[r, c]` on the dataset when every image
# has the same pixel spacing in mm.)
_base_ = ['./medical_seg_common.py']
dataset_type = 'Medical2DDataset'
data_root = 'data/hip_xray'
metainfo = dict(
    classes=('background', 'pelvis', 'left_femur', 'right_femur'),
    palette=[[0, 0, 0], [230, 25, 75], [60, 180, 75], [0, 130, 200]])
crop_size = (512, 512)
meta_keys = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
             'pad_shape', 'scale_factor', 'flip', 'flip_direction',
             'reduce_zero_label', 'spacing')
train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    # no left-right flip: it would swap the left and right femur
    dict(type='RandomRotate', prob=0.5, degree=10, pad_val=0, seg_pad_val=0),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
# stock LoadImageFromFile here: the Inferencers (MMSegInferencer /
# DetInferencer) locate and replace the step by this exact name
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='CheckedLoadAnnotations'),
    dict(type='PackSegInputs', meta_keys=meta_keys)
]
train_dataloader = dict(
    batch_size=8,
    dataset=dict(
        type=dataset_type,
        metainfo=metainfo,
        data_root=data_root,
        meta_file='meta.json',
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        train_dataloader['dataset'], test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='PerImageDiceMetric', metric_names=['mDice']),
    dict(type='SurfaceDistanceMetric', percentiles=(95, 100))
]
test_evaluator = val_evaluator

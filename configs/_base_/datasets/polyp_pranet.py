# PraNet polyp benchmark (TransFuse Table 1): train on the 1450 PraNet
# training images (900 Kvasir-SEG + 550 CVC-ClinicDB), test on the five
# PraNet test sets in ONE run. Convert the download first:
#   python tools/dataset_converters/polyp_pranet.py <PraNet data folder> \
#       --out data/polyp_pranet
# Layout: data/polyp_pranet/<set>/{images,masks}/*.png (masks 0/1),
#         data/polyp_pranet/splits/<set>.txt
# The test dataloader concatenates the five sets; every sample carries its
# set name as `subset`, and PerImageDiceMetric reports mDice/mIoU per set
# (a table like the paper's Table 1) plus all images pooled.
# Training augmentation: the ISIC 2017 base's (the TransFuse reference code's
# ISIC recipe; its polyp code was not released) at 352x352.
_base_ = ['./isic2017.py']
dataset_type = 'PolypDataset'
data_root = 'data/polyp_pranet'
crop_size = (352, 352)  # PraNet / TransFuse polyp resolution, (h, w)
img_scale = (352, 352)  # (w, h) for mmcv Resize
test_sets = [
    'Kvasir', 'CVC-ClinicDB', 'CVC-ColonDB', 'CVC-300', 'ETIS-LaribPolypDB'
]
meta_keys = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
             'pad_shape', 'scale_factor', 'flip', 'flip_direction',
             'reduce_zero_label', 'subset')
# the ISIC pipelines with this size (and `subset` in the test meta keys); the
# test masks are loaded after Resize: metrics compare at their resolution
train_pipeline = [
    dict(step, scale=img_scale) if step['type'] == 'RandomResize' else
    dict(step, crop_size=crop_size) if step['type'] == 'RandomCrop' else step
    for step in _base_.train_pipeline
]
test_pipeline = [
    dict(step, scale=img_scale) if step['type'] == 'Resize' else
    dict(step, meta_keys=meta_keys) if step['type'] == 'PackSegInputs' else
    step for step in _base_.test_pipeline
]
# what the training set and the five test sets share
polyp_set = dict(
    type=dataset_type,
    data_root=data_root,
    img_suffix='.png',
    seg_map_suffix='.png')
train_dataloader = dict(
    dataset=dict(
        polyp_set,
        data_prefix=dict(img_path='train/images', seg_map_path='train/masks'),
        ann_file='splits/train.txt',
        pipeline=train_pipeline))
# One pipeline for the five sets, on the wrapper (where the Inferencers and
# browse tools look for `test_dataloader.dataset.pipeline`).
test_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='SharedPipelineConcatDataset',
        pipeline=test_pipeline,
        datasets=[
            dict(
                polyp_set,
                subset=name,
                data_prefix=dict(
                    img_path=f'{name}/images', seg_map_path=f'{name}/masks'),
                ann_file=f'splits/{name}.txt',
                test_mode=True) for name in test_sets
        ]))
# PraNet has no validation split: validation runs on the five test sets.
val_dataloader = test_dataloader
test_evaluator = dict(
    type='PerImageDiceMetric',
    metric_names=['mDice', 'mIoU'],
    group_key='subset')
val_evaluator = test_evaluator

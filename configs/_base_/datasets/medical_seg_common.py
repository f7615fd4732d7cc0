# What the segmentation dataset bases share: the paired-folder layout
#   <data_root>/images/<name>.<ext>, masks/<name>.<ext>, splits/{train,val}.txt
# and its loaders (batch 16 for training, 1 for validation; the test loader is
# the validation one). Each dataset base inherits this file and adds its
# dataset type, root and pipelines to the loaders' `dataset` (a base is parsed
# before the file that inherits it, so it cannot refer to that file's
# variables).
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        data_prefix=dict(img_path='images', seg_map_path='masks'),
        ann_file='splits/train.txt'))
val_dataloader = dict(
    train_dataloader,
    batch_size=1,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(train_dataloader['dataset'], ann_file='splits/val.txt'))
test_dataloader = val_dataloader

# SMCA-DETR (R-50, 50 epochs, paper Table 1) on your own boxes in COCO
# format. Layout (each json's file_name is relative to its image folder):
#   data/my_coco/annotations/instances_train.json, instances_val.json
#   data/my_coco/train/*.jpg, data/my_coco/val/*.jpg
_base_ = './smca-detr_r50_8xb2-50e_coco.py'
data_root = 'data/my_coco/'
classes = ('ball', 'crate')  # category names of the json files
own_set = dict(
    type='CheckedCocoDataset', data_root=data_root,
    metainfo=dict(classes=classes))
train_dataloader = dict(dataset=dict(
    own_set, ann_file='annotations/instances_train.json',
    data_prefix=dict(img='train/')))
val_dataloader = dict(dataset=dict(
    own_set, ann_file='annotations/instances_val.json',
    data_prefix=dict(img='val/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = val_evaluator
model = dict(bbox_head=dict(num_classes=len(classes)))

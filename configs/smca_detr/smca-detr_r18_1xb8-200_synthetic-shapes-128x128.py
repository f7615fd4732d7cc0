# `make demo`: SMCA-DETR on the convergence study's recipe
# (tools/benchmark/convergence.py, CPU preset), cut to 200 iterations, next
# to mmdet's DETR trained the same way
# (configs/baselines/detr_r18_1xb8-200_synthetic-shapes-128x128.py): the
# paper's claim is that the Gaussian prior makes DETR converge much faster.
# * Data: synthetic shapes at 128 px, 1-4 shapes of 3 classes per image,
#   2000 train / 200 val (data seed 0), in their own folder:
#     python tools/dataset_generators/generate_synthetic_shapes.py \
#         --out data/synthetic_shapes_128 --num-train 2000 --num-val 200 \
#         --size 128 --num-classes 3 --objects 1 4 --seed 0
# * Model: the 36-epoch synthetic-shapes SMCA-DETR (ResNet-18 C4, random
#   init, 20 queries) with the study's transformer: 3 encoder + 3 decoder
#   layers, FFN 1024, dropout 0.1; the prior in the study's unit (below).
# * Schedule: batch 8, AdamW lr 1e-4 constant (weight decay 1e-4, backbone
#   at the full rate), grad-norm clip 0.1, no warm-up; validation every 50.
#   mim train mmdet configs/smca_detr/<this file> --work-dir work_dirs/demo/smca
_base_ = ['./smca-detr_r18_1xb8-36e_synthetic-shapes-160x160.py']
num_classes = 3
img_scale = (128, 128)
data_root = 'data/synthetic_shapes_128/'
metainfo = dict(classes=('circle', 'square', 'triangle'),
                palette=[(220, 20, 60), (0, 128, 255), (0, 200, 0)])
ffn = dict(feedforward_channels=1024, ffn_drop=0.1)
attn = dict(dropout=0.1)
model = dict(
    encoder=dict(num_layers=3, layer_cfg=dict(self_attn_cfg=attn,
                                              ffn_cfg=ffn)),
    decoder=dict(
        num_layers=3,
        layer_cfg=dict(
            self_attn_cfg=attn,
            cross_attn_cfg=attn,
            ffn_cfg=ffn,
            # The reference set beta = 8 and its offset head for COCO's
            # stride-32 maps, 25 cells on the short side; this 8x8 map
            # measures the prior in units of 8 / 25 cells, so the initial
            # width and the heads' spread are the reference's fractions of
            # the image (convergence.py's `smca_prior_unit`). In plain cells
            # (1, the reference) they are 3x wider, and SMCA trails.
            prior_unit=8 / 25)),
    bbox_head=dict(num_classes=num_classes))

# the base's pipelines at this size
train_pipeline, test_pipeline = ([
    dict(step, scale=img_scale) if step['type'] == 'Resize' else step
    for step in pipeline
] for pipeline in (_base_.train_pipeline, _base_.test_pipeline))
__shapes_128 = dict(data_root=data_root, metainfo=metainfo)
train_dataloader = dict(batch_size=8,
                        sampler=dict(type='InfiniteSampler', shuffle=True),
                        dataset=dict(__shapes_128, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(__shapes_128, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = val_evaluator

max_iters = 200
train_cfg = dict(_delete_=True,
                 type='IterBasedTrainLoop',
                 max_iters=max_iters,
                 val_interval=50)
optim_wrapper = dict(_delete_=True,
                     type='OptimWrapper',
                     optimizer=dict(type='AdamW', lr=1e-4, weight_decay=1e-4),
                     clip_grad=dict(max_norm=0.1, norm_type=2))
param_scheduler = []
default_hooks = dict(logger=dict(interval=50, log_metric_by_epoch=False),
                     checkpoint=dict(by_epoch=False,
                                     interval=max_iters,
                                     max_keep_ckpts=1))
log_processor = dict(by_epoch=False, window_size=50)
auto_scale_lr = dict(base_batch_size=8)

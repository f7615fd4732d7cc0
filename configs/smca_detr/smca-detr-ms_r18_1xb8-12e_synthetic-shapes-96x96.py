# Multi-scale SMCA-DETR on the synthetic coloured-shapes set (4 classes, the
# 160x160 images resized to 96x96): a CPU-trainable check that the
# multi-scale model learns. The recipe (data, batch 8, AdamW 4e-4 everywhere,
# 50-iteration warm-up, clip 1.0, 20 queries, 3 decoder layers, no dropout)
# is the single-scale synthetic config's; what changes:
# * ResNet-18 C4 + C5 -> ChannelMapper -> E16, E32, E64 (6x6, 3x3, 2x2 on
#   96 px inputs), strides 16/32/64 read from the backbone and neck;
# * 96 px inputs and 12 epochs (300 iterations; lr / 10 at epoch 10): a
#   shared 2-core machine gives this model ~4 s per iteration at 96 px
#   (~10 s at 160 px), and a run must stay near 15 minutes;
# * a 2-layer encoder 'intra', 'multi' (one block of each kind), FFN 512;
# * multi-scale decoder with per-level priors and scale-selection attention.
_base_ = './smca-detr_r18_1xb8-36e_synthetic-shapes-160x160.py'
model = dict(
    type='SMCADETRMultiScale',
    backbone=dict(
        num_stages=4,
        strides=(1, 2, 2, 2),
        dilations=(1, 1, 1, 1),
        out_indices=(2, 3)),
    neck=dict(in_channels=[256, 512], num_outs=3),
    encoder=dict(
        _delete_=True,
        layout=['intra', 'multi'],
        num_levels=3,
        intra_share='all',
        # the single-scale encoder layer: no dropout, FFN 512
        layer_cfg=_base_.model.encoder.layer_cfg),
    decoder=dict(layer_cfg=dict(num_levels=3, scale_selection=True)))

img_scale = (96, 96)
# the dataset base's pipelines with their Resize step at 96 px
train_pipeline, test_pipeline = ([
    dict(step, scale=img_scale) if step['type'] == 'Resize' else step
    for step in pipeline
] for pipeline in (_base_.train_pipeline, _base_.test_pipeline))
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
max_epochs = 12
train_cfg = dict(max_epochs=max_epochs, val_interval=6)
# the 36-epoch warm-up, and lr / 10 for the last 2 epochs
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], end=max_epochs, milestones=[10])
]

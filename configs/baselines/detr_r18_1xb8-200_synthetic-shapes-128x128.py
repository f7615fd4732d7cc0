# mmdet's DETR as the baseline of the SMCA-DETR demo config
# (configs/smca_detr/smca-detr_r18_1xb8-200_synthetic-shapes-128x128.py):
# the same backbone, neck, layer counts, FFN, dropout, queries, data,
# schedule and seed; what differs is what SMCA changes, so here mmdet's DETR
# parts as `mmdet::detr/detr_r50_8xb2-150e_coco.py` sets them: `DETR`, the
# plain DETR decoder layer (no Gaussian prior), `DETRHead` with softmax
# cross-entropy (no-object weight 0.1) and its matching costs. The model
# dict equals tools/benchmark/convergence.py's `DETR` on its CPU preset.
#   mim train mmdet configs/baselines/<this file> --work-dir work_dirs/demo/detr
_base_ = ['../smca_detr/smca-detr_r18_1xb8-200_synthetic-shapes-128x128.py']
attn = dict(embed_dims=256, num_heads=8, dropout=0.1, batch_first=True)
model = dict(
    type='DETR',
    decoder=dict(
        layer_cfg=dict(_delete_=True,
                       self_attn_cfg=attn,
                       cross_attn_cfg=attn,
                       ffn_cfg=dict(embed_dims=256,
                                    feedforward_channels=1024,
                                    num_fcs=2,
                                    ffn_drop=0.1,
                                    act_cfg=dict(type='ReLU', inplace=True)))),
    bbox_head=dict(_delete_=True,
                   type='DETRHead',
                   num_classes={{_base_.num_classes}},
                   embed_dims=256,
                   loss_cls=dict(type='CrossEntropyLoss',
                                 bg_cls_weight=0.1,
                                 use_sigmoid=False,
                                 loss_weight=1.0,
                                 class_weight=1.0),
                   loss_bbox=dict(type='L1Loss', loss_weight=5.0),
                   loss_iou=dict(type='GIoULoss', loss_weight=2.0)),
    train_cfg=dict(assigner=dict(match_costs=[
        dict(type='ClassificationCost', weight=1.),
        dict(type='BBoxL1Cost', weight=5.0, box_format='xywh'),
        dict(type='IoUCost', iou_mode='giou', weight=2.0)
    ])))

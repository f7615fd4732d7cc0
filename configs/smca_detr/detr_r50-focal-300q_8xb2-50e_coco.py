# Paper Table 2 baseline (34.8 mAP): plain DETR trained with SMCA's recipe -
# 300 queries, sigmoid focal loss 2 / L1 5 / GIoU 2, matching costs 2 / 5 / 2,
# 50 epochs - with mmdet's own `DETR` detector and `DETRHead` (no prior, no
# centre-conditioned boxes).
_base_ = './smca-detr_r50_8xb2-50e_coco.py'
model = dict(
    type='DETR',
    decoder=dict(
        layer_cfg=dict(
            _delete_=True,
            self_attn_cfg=dict(
                embed_dims=256, num_heads=8, dropout=0.1, batch_first=True),
            cross_attn_cfg=dict(
                embed_dims=256, num_heads=8, dropout=0.1, batch_first=True),
            ffn_cfg=dict(
                embed_dims=256,
                feedforward_channels=2048,
                num_fcs=2,
                ffn_drop=0.1,
                act_cfg=dict(type='ReLU', inplace=True)))),
    bbox_head=dict(type='DETRHead'))

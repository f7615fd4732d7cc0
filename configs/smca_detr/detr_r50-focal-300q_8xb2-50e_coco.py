# Paper Table 2 baseline (34.8 mAP): plain DETR trained with SMCA's recipe -
# 300 queries, sigmoid focal loss 2 / L1 5 / GIoU 2, matching costs 2 / 5 / 2,
# 50 epochs - with mmdet's own `DETR` detector and `DETRHead` (no prior, no
# centre-conditioned boxes).
_base_ = './smca-detr_r50_8xb2-50e_coco.py'
__layer = _base_.model.decoder.layer_cfg
model = dict(
    type='DETR',
    decoder=dict(
        # mmdet's DETR decoder layer: the SMCA layer's attention and FFN
        # without its prior settings
        layer_cfg=dict(
            _delete_=True,
            self_attn_cfg=__layer.self_attn_cfg,
            cross_attn_cfg=__layer.cross_attn_cfg,
            ffn_cfg=__layer.ffn_cfg)),
    bbox_head=dict(type='DETRHead'))

# TransFuse-S on a private hip X-ray set (paper Table 3: pelvis, left and
# right femur; HD and ASD in mm). The data is not public: arrange yours as
# described in configs/_base_/datasets/hip_xray.py (images, class-id masks,
# per-image pixel spacing in meta.json).
_base_ = [
    './_base_/models/transfuse-s_r34-deit-s_in1k-pre.py',
    '../_base_/datasets/hip_xray.py',
    '../_base_/default_runtime_seg.py',
    '../_base_/schedules/schedule_seg_adam-7e-5_2k.py'
]
model = dict(
    decode_head=dict(num_classes=4, out_channels=4, threshold=None))
train_cfg = dict(max_iters=4000, val_interval=500)
default_hooks = dict(checkpoint=dict(interval=500, max_keep_ckpts=2))

# TransFuse-S on MSD Task05 prostate MRI (paper Table 4): 2-D slices with
# T2/ADC/T2 channels, 3 classes (background, PZ, TZ), evaluated per 3-D
# volume (Dice per class; HD95 / HD / ASD in mm).
#   python tools/dataset_converters/prostate_msd.py <Task05_Prostate> \
#       --out data/prostate_msd
#   mim train mmplugin_transfuse configs/transfuse/<this file>
#   python tools/eval_prostate_volumes.py configs/transfuse/<this file> \
#       <checkpoint> --data-root data/prostate_msd   # Dice + s/volume
_base_ = [
    './_base_/models/transfuse-s_r34-deit-s_in1k-pre.py',
    '../_base_/datasets/prostate_msd.py',
    '../_base_/default_runtime_seg.py',
    '../_base_/schedules/schedule_seg_adam-7e-5_2k.py'
]
# multi-class: one logit per class, argmax at test time
model = dict(
    decode_head=dict(num_classes=3, out_channels=3, threshold=None))
train_cfg = dict(max_iters=5000, val_interval=500)
default_hooks = dict(
    checkpoint=dict(
        interval=500, max_keep_ckpts=2, save_best='mDice', rule='greater'))

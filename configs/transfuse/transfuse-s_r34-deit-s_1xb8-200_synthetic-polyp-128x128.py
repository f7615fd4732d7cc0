# README demo: TransFuse-S from random initialisation on the synthetic polyp
# set (128x128), 200 iterations of batch 8 — a few minutes on 2 CPU cores.
#   python tools/dataset_generators/generate_synthetic_polyp.py \
#       --out data/synthetic_polyp
#   mim train mmseg configs/transfuse/<this file> --work-dir work_dirs/demo
_base_ = [
    './_base_/models/transfuse-s_r34-deit-s.py',
    '../_base_/datasets/synthetic_polyp.py',
    '../_base_/default_runtime_seg.py',
    '../_base_/schedules/schedule_seg_adam-7e-5_2k.py'
]
crop_size = (128, 128)
# 128x128 input -> 8x8 token grid; the stored 12x16 pos-embed is resized.
data_preprocessor = dict(size_divisor=16, test_cfg=dict(size_divisor=16))
model = dict(data_preprocessor=data_preprocessor)
train_dataloader = dict(batch_size=8)
# The reference lr 7e-5 assumes ImageNet-pretrained branches; from random
# initialisation the transformer learns far too slowly at that rate, so the
# demo uses Adam lr 1e-3 (the reference betas and grad clipping are kept).
optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_iters=200, val_interval=100)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=100, max_keep_ckpts=1))
# Same numbers on every run on one machine: seeded init, augmentation and
# sampling (mmengine also seeds each dataloader worker with seed + worker id),
# and torch.use_deterministic_algorithms(True) (an op without a deterministic
# kernel raises instead of varying). Float reductions still depend on the
# number of intra-op threads and the CPU's kernels: tools/demo.sh pins the
# threads (DEMO_THREADS, default 1). On a GPU torch has no deterministic
# backward for bilinear interpolate / adaptive average pooling (both used
# here) and raises: pass `--cfg-options randomness.deterministic=False` there
# (tools/demo.sh does when CUDA is available).
randomness = dict(seed=0, deterministic=True)

# TransFuse-L: ResNet-50 (layer1-3) || DeiT-B (12 blocks). The paper's text
# mentions Res2Net-50 for -L; the reference code (which defines the released
# checkpoint layout) uses torchvision ResNet-50, followed here.
_base_ = './transfuse-s_r34-deit-s.py'
model = dict(
    backbone=dict(
        cnn=dict(depth=50),
        global_branch=dict(embed_dims=768, depth=12, num_heads=12),
        up_channels=(512, 256)),
    neck=dict(
        cnn_channels=(1024, 512, 256),
        trans_channels=(768, 512, 256),
        out_channels=(1024, 512, 256)),
    decode_head=dict(in_channels=(1024, 512, 256, 256), channels=256))

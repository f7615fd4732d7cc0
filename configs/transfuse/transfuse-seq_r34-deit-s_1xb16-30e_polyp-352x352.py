# Table 5 ablation "R34 + DeiT-S, sequential". The paper gives no details;
# our reading is the TransUNet-style hybrid it contrasts TransFuse with: the
# transformer (DeiT-S, 8 blocks) runs on the 1/16 ResNet-34 map (1x1
# "patches", 256 input channels) and the attention-gated decoder upsamples
# its output with the CNN's 1/8 and 1/4 maps as skips. ImageNet init: all of
# ResNet-34 and DeiT-S's blocks, norm and position embedding; DeiT's 16x16
# patch embedding does not fit the 1x1 "patches" and keeps its random init.
_base_ = './transfuse-s_r34-deit-s_1xb16-30e_polyp-352x352.py'
model = dict(
    backbone=dict(
        composition='sequential',
        global_branch=dict(in_channels=256, patch_size=1)),
    neck=None,
    decode_head=dict(
        in_channels=(384, 128, 64),
        # the base's losses but the branch head's (no branch output here)
        loss_decode=[
            loss for loss in _base_.model.decode_head.loss_decode
            if loss['loss_name'] != 'loss_branch'
        ]))

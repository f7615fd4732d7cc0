"""Multi-scale SMCA-DETR: encoder sharing/layout, scale selection, per-level
priors, key padding, gradients, and a short training run."""
import copy
import inspect
import os.path as osp

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine import Config
from mmengine.structures import InstanceData

from mmplugin_transfuse.det.models.layers import (SMCADWConvEncoder,
                                                  SMCAIntraScaleLayer,
                                                  SMCAMultiScaleDecoder,
                                                  SMCAMultiScaleEncoder,
                                                  SMCAMultiScaleLayer)
from .conftest import SMCA_CFG_DIR, scalar_log_prior

MS_R50 = osp.join(SMCA_CFG_DIR, 'smca-detr-ms_r50_8xb2-50e_coco.py')
MS_SYN = osp.join(SMCA_CFG_DIR,
                  'smca-detr-ms_r18_1xb8-12e_synthetic-shapes-96x96.py')


def tiny_encoder(layout=('intra', 'multi'), share='all'):
    """The R50 config's encoder at width 32 / 4 heads / FFN 64."""
    cfg = copy.deepcopy(Config.fromfile(MS_R50).model.encoder)
    cfg.layout = list(layout)
    cfg.intra_share = share
    cfg.layer_cfg.self_attn_cfg.update(embed_dims=32, num_heads=4, dropout=0.)
    cfg.layer_cfg.ffn_cfg.update(
        embed_dims=32, feedforward_channels=64, ffn_drop=0.)
    torch.manual_seed(0)
    return SMCAMultiScaleEncoder(**cfg).eval()


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def test_intra_layer_shares_one_block_across_levels_not_layers():
    enc = tiny_encoder(('intra', 'intra'))
    layer = enc.layers[0]
    assert len(layer.self_attns) == len(layer.ffns) == 1
    # one intra layer == one transformer block's parameters
    multi = tiny_encoder(('multi', )).layers[0]
    assert n_params(layer) == n_params(multi)
    # the two intra layers do not share
    ptrs0 = {p.data_ptr() for p in enc.layers[0].parameters()}
    ptrs1 = {p.data_ptr() for p in enc.layers[1].parameters()}
    assert not ptrs0 & ptrs1
    # functionally: each level goes alone through the same block
    shapes = [(4, 4), (2, 2), (1, 1)]
    starts = [0, 16, 20]
    x = torch.randn(2, 21, 32)
    pos = torch.randn(2, 21, 32)
    with torch.no_grad():
        out = layer(x, pos, None, starts)
        for lvl, (h, w) in enumerate(shapes):
            sl = slice(starts[lvl], starts[lvl] + h * w)
            y = layer.self_attns[0](
                x[:, sl], query_pos=pos[:, sl], key_pos=pos[:, sl])
            y = layer.ffn_norms[0](layer.ffns[0](layer.sa_norms[0](y)))
            torch.testing.assert_close(out[:, sl], y)
        # level 0 does not see level 1's tokens
        x2 = x.clone()
        x2[:, 16:20] += 5
        out2 = layer(x2, pos, None, starts)
    torch.testing.assert_close(out2[:, :16], out[:, :16])
    assert not torch.allclose(out2[:, 16:20], out[:, 16:20])


@pytest.mark.parametrize('share,num_sa,num_ffn', [('all', 1, 1),
                                                  ('ffn', 3, 1),
                                                  ('sa', 1, 3),
                                                  ('none', 3, 3)])
def test_intra_share_modes(share, num_sa, num_ffn):
    layer = tiny_encoder(('intra', ), share).layers[0]
    assert (len(layer.self_attns), len(layer.sa_norms)) == (num_sa, num_sa)
    assert (len(layer.ffns), len(layer.ffn_norms)) == (num_ffn, num_ffn)


def test_multi_layer_attends_across_levels():
    enc = tiny_encoder(('multi', ))
    x, pos = torch.randn(1, 21, 32), torch.randn(1, 21, 32)
    with torch.no_grad():
        out = enc(x, pos, None, [0, 16, 20])
        x2 = x.clone()
        x2[:, 20] += 5  # the 1/64 token
        out2 = enc(x2, pos, None, [0, 16, 20])
    assert not torch.allclose(out2[:, :16], out[:, :16])


def test_layout_builds_the_sequence_and_rejects_bad_layouts():
    enc = tiny_encoder(('intra', 'intra', 'multi', 'intra', 'intra'))
    assert [type(layer) for layer in enc.layers] == [
        SMCAIntraScaleLayer, SMCAIntraScaleLayer, SMCAMultiScaleLayer,
        SMCAIntraScaleLayer, SMCAIntraScaleLayer
    ]
    for bad in (['intra', 'cross'], [], 'intra'):
        with pytest.raises(ValueError, match='encoder.layout'):
            tiny_encoder(bad)
    with pytest.raises(ValueError, match='intra_share'):
        tiny_encoder(('intra', ), 'half')
    # the multi-scale co-attention has no unfused path to switch to
    with pytest.raises(ValueError, match='always fused'):
        build_synthetic(fused_attention=False)


def build_synthetic(**decoder_layer_cfg):
    cfg = Config.fromfile(MS_SYN)
    cfg.model.decoder.layer_cfg.update(decoder_layer_cfg)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def batch(sizes, pad_hw):
    """Images (random) and data samples with per-image ``img_shape``."""
    torch.manual_seed(1)
    inputs = torch.randn(len(sizes), 3, *pad_hw)
    samples = []
    for h, w in sizes:
        inputs[len(samples), :, h:] = 0
        inputs[len(samples), :, :, w:] = 0
        s = DetDataSample(
            metainfo=dict(
                img_shape=(h, w),
                batch_input_shape=pad_hw,
                pad_shape=pad_hw,
                ori_shape=(h, w),
                scale_factor=(1., 1.)))
        s.gt_instances = InstanceData(
            bboxes=torch.tensor([[4., 6., w * 0.6, h * 0.7]]),
            labels=torch.tensor([1]))
        samples.append(s)
    return inputs, samples


def decoder_priors(model, inputs, samples):
    """Per decoder layer, the per-level ``log G`` as ``(bs, heads, nq, h_l,
    w_l)`` and ``alpha`` ``(bs, nq, L)`` that the layer receives, read with
    forward hooks while the model runs its own forward; and the spatial
    shapes the decoder got."""
    seen, dec = [], {}

    def on_layer(layer, args, kwargs, out):
        bound = inspect.signature(layer.forward).bind(*args, **kwargs)
        seen.append((bound.arguments['log_priors'], bound.arguments['alpha']))

    hooks = [
        layer.register_forward_hook(on_layer, with_kwargs=True)
        for layer in model.decoder.layers
    ]
    hooks.append(
        model.decoder.register_forward_hook(
            lambda mod, args, kwargs, out: dec.update(kwargs),
            with_kwargs=True))
    try:
        with torch.no_grad():
            model._forward(inputs, samples)
    finally:
        for hook in hooks:
            hook.remove()
    shapes = [tuple(hw) for hw in dec['spatial_shapes']]
    bs = inputs.size(0)
    log_priors = [[
        p.view(bs, -1, p.size(1), h, w) for p, (h, w) in zip(priors, shapes)
    ] for priors, _ in seen]
    return log_priors, [alpha for _, alpha in seen], shapes


def test_per_level_prior_is_the_closed_form_on_each_grid():
    model = build_synthetic(scale_mode='Indep').eval()
    c_norm = torch.tensor([0.3, 0.6])
    with torch.no_grad():
        last = model.decoder.layers[0].center_mlp.layers[-1]
        last.weight.zero_()
        last.bias.copy_(torch.logit(c_norm))
        for layer in model.decoder.layers:
            for lvl, prior in enumerate(layer.level_priors):
                prior.offset_fc.weight.zero_()
                prior.offset_fc.bias.zero_()
                prior.scale_fc.weight.zero_()
                # per level its own (s_x, s_y) for all heads
                prior.scale_fc.bias.copy_(
                    torch.tensor([lvl + 1., 0.5 * (lvl + 1)]).repeat(8))
    sizes = [(128, 128), (96, 64)]
    inputs, samples = batch(sizes, (128, 128))
    log_priors, _, shapes = decoder_priors(model, inputs, samples)
    assert model.feat_strides == [16, 32, 64]
    assert shapes == [(8, 8), (4, 4), (2, 2)]
    assert len(log_priors) == 3
    for layer_priors in log_priors:
        for lvl, (stride, (h, w)) in enumerate(zip([16, 32, 64], shapes)):
            sx, sy = lvl + 1., 0.5 * (lvl + 1)
            for b, (img_h, img_w) in enumerate(sizes):
                cx = 0.3 * img_w / stride
                cy = 0.6 * img_h / stride
                ys = torch.arange(h, dtype=torch.float32).view(h, 1)
                xs = torch.arange(w, dtype=torch.float32).view(1, w)
                expected = -(sx**2 * (xs - cx)**2 + sy**2 *
                             (ys - cy)**2) / 8.0
                got = layer_priors[lvl][b]  # (heads, nq, h, w)
                assert got.shape == (8, 20, h, w)
                torch.testing.assert_close(
                    got, expected.expand_as(got), rtol=1e-5, atol=1e-5)


def test_alpha_sums_to_one_per_query_and_depends_on_the_image():
    model = build_synthetic().eval()
    inputs, samples = batch([(128, 128), (128, 128)], (128, 128))
    inputs[1] = torch.randn(3, 128, 128) * 3
    _, alphas, _ = decoder_priors(model, inputs, samples)
    assert len(alphas) == 3
    for alpha in alphas:
        assert alpha.shape == (2, 20, 3)
        torch.testing.assert_close(alpha.sum(-1), torch.ones(2, 20))
        assert (alpha > 0).all()
    # layer 0 sees only the query embedding (its input is zero), so its alpha
    # is the same for every image; from layer 1 on it depends on the image
    torch.testing.assert_close(alphas[0][0], alphas[0][1])
    for alpha in alphas[1:]:
        assert (alpha[0] - alpha[1]).abs().max() > 1e-4
        assert (alpha[0, 0] - alpha[0, 1]).abs().max() > 1e-4  # per query


@pytest.mark.parametrize('scale_selection', [True, False])
def test_padded_keys_get_zero_weight_on_every_level(scale_selection):
    cfg = copy.deepcopy(Config.fromfile(MS_SYN).model.decoder)
    cfg.layer_cfg.scale_selection = scale_selection
    torch.manual_seed(0)
    dec = SMCAMultiScaleDecoder(**cfg).eval()
    shapes = [(4, 4), (2, 2), (1, 1)]
    starts = [0, 16, 20]
    bs, nq, dim = 2, 5, 256
    memory, pos = torch.randn(bs, 21, dim), torch.randn(bs, 21, dim)
    pad = torch.zeros(bs, 4, 4, dtype=torch.bool)
    pad[1, :, 2:] = True  # image 1 is 2 cells wide at 1/16
    pad_mid = torch.zeros(bs, 2, 2, dtype=torch.bool)
    pad_mid[1, :, 1:] = True  # and 1 cell at 1/32
    mask = torch.cat([
        pad.flatten(1), pad_mid.flatten(1),
        torch.zeros(bs, 1, dtype=torch.bool)
    ], 1)
    valid_wh = torch.tensor([[[4., 4.], [2., 2.], [1., 1.]],
                             [[2., 4.], [1., 2.], [.5, 1.]]])
    query, query_pos = torch.zeros(bs, nq, dim), torch.randn(bs, nq, dim)

    def run(mem):
        with torch.no_grad():
            return dec(query, mem, query_pos, pos, mask, valid_wh, shapes,
                       starts)[0]

    out = run(memory)
    changed = memory.clone()
    changed[mask] = 1e3  # every padded key/value, on both padded levels
    torch.testing.assert_close(run(changed), out)
    assert torch.isfinite(out).all()
    unpadded = memory.clone()
    unpadded[1, 16] += 10  # a valid 1/32 key of image 1 does matter
    assert not torch.allclose(run(unpadded)[:, 1], out[:, 1])


@pytest.mark.parametrize('scale_selection', [True, False])
def test_loss_backward_reaches_every_parameter(scale_selection):
    model = build_synthetic(scale_selection=scale_selection).train()
    inputs, samples = batch([(96, 96), (64, 80)], (96, 96))
    losses = model.loss(inputs, samples)
    loss = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(loss)
    loss.backward()
    # every parameter gets a gradient, and a non-zero one except where DETR's
    # init makes it zero: the backbone's residual branches start at zero
    # (mmdet's `zero_init_residual`), and decoder layer 0's query is zero, so
    # its self-attention values (and the norm after it, fed the zero
    # out_proj bias) are zero in the first step
    zero_at_init = ('backbone.', 'decoder.layers.0.self_attn.attn.in_proj_w',
                    'decoder.layers.0.self_attn.attn.out_proj.w',
                    'decoder.layers.0.norms.0.w')
    missing = [
        n for n, p in model.named_parameters() if p.requires_grad and (
            p.grad is None or not (n.startswith(zero_at_init)
                                   or p.grad.abs().sum() > 0))
    ]
    assert missing == []
    has_ssa = model.decoder.layers[0].scale_selection is not None
    assert has_ssa == scale_selection


def test_bf16_autocast_decoder_is_finite():
    model = build_synthetic().eval()
    inputs, samples = batch([(96, 96), (64, 80)], (96, 96))
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        results = model.predict(inputs, samples)
    assert all(
        torch.isfinite(r.pred_instances.bboxes).all() for r in results)


def test_synthetic_config_trains_and_predicts(tmp_path,
                                              synthetic_shapes_root):
    from mmengine.runner import Runner
    cfg = Config.fromfile(MS_SYN)
    root = synthetic_shapes_root + '/'
    for stage in ('train', 'val', 'test'):
        loader = cfg[f'{stage}_dataloader']
        loader.dataset.data_root = root
        loader.num_workers = 0
        loader.persistent_workers = False
    cfg.train_dataloader.batch_size = 4  # 8 images -> 2 iterations
    ann = osp.join(root, 'annotations', 'instances_val.json')
    cfg.val_evaluator.ann_file = cfg.test_evaluator.ann_file = ann
    cfg.train_cfg.max_epochs = 1
    cfg.train_cfg.val_interval = 1
    cfg.param_scheduler = []
    cfg.default_hooks.logger.interval = 1
    cfg.work_dir = str(tmp_path)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    metrics = runner.test()
    assert 'coco/bbox_mAP' in metrics
    assert osp.isfile(osp.join(str(tmp_path), 'epoch_1.pth'))


def test_dwconv_encoder_fuses_neighbouring_levels_only():
    path = osp.join(SMCA_CFG_DIR, 'smca-detr-ms-dwconv_r50_8xb2-50e_coco.py')
    cfg = copy.deepcopy(Config.fromfile(path).model.encoder)
    cfg.pop('type')
    cfg.num_layers = 1
    cfg.layer_cfg.update(embed_dims=16, dropout=0.)
    cfg.layer_cfg.ffn_cfg.update(
        embed_dims=16, feedforward_channels=32, ffn_drop=0.)
    torch.manual_seed(0)
    enc = SMCADWConvEncoder(**cfg).eval()
    shapes = [(16, 16), (8, 8), (4, 4), (2, 2)]
    starts = [0, 256, 320, 336]
    x, pos = torch.randn(1, 340, 16), torch.randn(1, 340, 16)
    with torch.no_grad():
        out = enc(x, pos, None, starts, shapes)
        x2 = x.clone()
        x2[:, 336:] += 3  # change E64 only
        out2 = enc(x2, pos, None, starts, shapes)
    assert out.shape == (1, 340, 16)
    # one layer reaches E32 (its neighbour) but not E8 / E16
    torch.testing.assert_close(out2[:, :320], out[:, :320])
    assert not torch.allclose(out2[:, 320:336], out[:, 320:336])
    with pytest.raises(ValueError, match='spatial_shapes'):
        enc(x, pos, None, starts)


def test_level_prior_factors_scale_log_g():
    model = build_synthetic(level_prior_factors=[0.5, 1, 2]).eval()
    plain = build_synthetic().eval()
    inputs, samples = batch([(128, 128)], (128, 128))
    # layer 0: its input does not depend on the priors, so only the factor
    # differs (later layers see different co-attention outputs)
    a = decoder_priors(model, inputs, samples)[0][0]
    b = decoder_priors(plain, inputs, samples)[0][0]
    for lvl, factor in enumerate([0.5, 1, 2]):
        torch.testing.assert_close(a[lvl], b[lvl] * factor)
    with pytest.raises(ValueError, match='level_prior_factors'):
        build_synthetic(level_prior_factors=[1, 1])


def test_cov_mode_builds_cov_priors_on_every_level_matching_scalar_loop():
    """``scale_mode='Cov'`` gives every level the reference ``type4`` prior:
    what each layer receives equals log G computed one scalar at a time
    from the predicted centre, offsets and ``(s_x, s_y, s_xy)``."""
    model = build_synthetic(scale_mode='Cov').eval()
    with torch.no_grad():
        for layer in model.decoder.layers:
            for prior in layer.level_priors:
                assert prior.scale_fc.out_features == 3 * 8
                # away from the init (scales 1) so every term matters
                for p in (*prior.offset_fc.parameters(),
                          *prior.scale_fc.parameters()):
                    p.normal_(std=0.05)
                prior.scale_fc.bias.add_(1.0)
    sizes = [(96, 96), (64, 80)]
    inputs, samples = batch(sizes, (96, 96))
    prior_inputs, center_logits = [], []
    hooks = [
        layer.norm4.register_forward_hook(
            lambda mod, args, out: prior_inputs.append(out))
        for layer in model.decoder.layers
    ]
    hooks.append(model.decoder.layers[0].center_mlp.register_forward_hook(
        lambda mod, args, out: center_logits.append(out)))
    try:
        log_priors, _, shapes = decoder_priors(model, inputs, samples)
    finally:
        for hook in hooks:
            hook.remove()
    strides = [16, 32, 64]
    for layer_id in (0, 2):
        layer = model.decoder.layers[layer_id]
        for lvl, (h, w) in enumerate(shapes):
            # the centre of each image in this level's cells, by hand
            img_wh = torch.tensor([[w_img, h_img] for h_img, w_img in sizes],
                                  dtype=torch.float32)
            centers = center_logits[0].sigmoid() * (img_wh /
                                                    strides[lvl]).unsqueeze(1)
            want = scalar_log_prior(layer.level_priors[lvl],
                                    prior_inputs[layer_id][:, :4],
                                    centers[:, :4], (h, w))
            got = log_priors[layer_id][lvl][:, :, :4].reshape(
                want.shape).double()
            torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-3)
    # the x*y term is there: Indep with the same weights differs
    assert log_priors[0][0].abs().max() > 0

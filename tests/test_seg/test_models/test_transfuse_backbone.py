"""TransFuseBackbone and its branches."""
import pytest
import torch

from mmseg.registry import MODELS


def small_backbone(**kwargs):
    cfg = dict(
        type='TransFuseBackbone',
        cnn=dict(type='TransFuseResNet', depth=18),
        global_branch=dict(
            type='TransFuseViT',
            embed_dims=64,
            depth=2,
            num_heads=2,
            pos_grid=(4, 6)),
        up_channels=(32, 16))
    cfg.update(kwargs)
    return MODELS.build(cfg)


@pytest.mark.parametrize('size', [(64, 96), (48, 48), (80, 112)])
def test_parallel_shapes(size):
    h, w = size
    backbone = small_backbone().eval()
    outs = backbone(torch.randn(2, 3, h, w))
    expected = [(256, 16), (128, 8), (64, 4), (64, 16), (32, 8), (16, 4)]
    assert len(outs) == 6
    for out, (c, stride) in zip(outs, expected):
        assert out.shape == (2, c, h // stride, w // stride)
    assert backbone.out_channels == tuple(c for c, _ in expected)


def test_input_not_divisible_by_16_is_refused():
    backbone = small_backbone()
    with pytest.raises(
            ValueError, match=r'multiples of 16, got 50x64.*'
            r'size_divisor=16'):
        backbone(torch.randn(1, 3, 50, 64))


def test_pos_embed_resized_only_when_grid_differs():
    vit = MODELS.build(
        dict(
            type='TransFuseViT',
            embed_dims=32,
            depth=1,
            num_heads=2,
            pos_grid=(2, 3))).eval()
    vit.init_weights()
    x = torch.randn(1, 3, 32, 48)
    # at the stored grid the embedding is added as stored
    tokens = vit.patch_embed(x) + vit.pos_embed
    for blk in vit.blocks:
        tokens = blk(tokens)
    expected = vit.norm(tokens).transpose(1, 2).reshape(1, 32, 2, 3)
    torch.testing.assert_close(vit(x), expected)
    assert vit(torch.randn(1, 3, 64, 80)).shape == (1, 32, 4, 5)


def test_with_cp_gives_same_output_and_grads():
    torch.manual_seed(0)
    vit = MODELS.build(
        dict(
            type='TransFuseViT',
            embed_dims=32,
            depth=2,
            num_heads=2,
            pos_grid=(2, 2)))
    vit.init_weights()
    vit_cp = MODELS.build(
        dict(
            type='TransFuseViT',
            embed_dims=32,
            depth=2,
            num_heads=2,
            pos_grid=(2, 2),
            with_cp=True))
    vit_cp.load_state_dict(vit.state_dict())
    x = torch.randn(2, 3, 32, 32, requires_grad=True)
    out, out_cp = vit(x), vit_cp(x)
    torch.testing.assert_close(out, out_cp)
    out.sum().backward()
    grad = vit.blocks[0].attn.qkv.weight.grad.clone()
    out_cp.sum().backward()
    torch.testing.assert_close(vit_cp.blocks[0].attn.qkv.weight.grad, grad)


def test_in_channels_2():
    backbone = small_backbone(
        cnn=dict(type='TransFuseResNet', depth=18, in_channels=2),
        global_branch=dict(
            type='TransFuseViT',
            in_channels=2,
            embed_dims=32,
            depth=1,
            num_heads=2,
            pos_grid=(2, 2)))
    assert backbone.cnn.conv1.weight.shape == (64, 2, 7, 7)
    assert backbone.global_branch.patch_embed.proj.weight.shape[1] == 2
    outs = backbone.eval()(torch.randn(1, 2, 32, 32))
    assert outs[0].shape == (1, 256, 2, 2)


def test_sequential_compositions():
    cnn_only = small_backbone(composition='sequential', global_branch=None)
    outs = cnn_only.eval()(torch.randn(1, 3, 32, 48))
    assert [o.shape[1] for o in outs] == [256, 128, 64]
    assert [o.shape[2] for o in outs] == [2, 4, 8]
    vit_only = small_backbone(composition='sequential', cnn=None)
    outs = vit_only.eval()(torch.randn(1, 3, 32, 48))
    assert [tuple(o.shape[1:]) for o in outs] == [(64, 2, 3), (32, 4, 6),
                                                  (16, 8, 12)]
    hybrid = small_backbone(
        composition='sequential',
        global_branch=dict(
            type='TransFuseViT',
            in_channels=256,
            patch_size=1,
            embed_dims=64,
            depth=1,
            num_heads=2,
            pos_grid=(2, 3)))
    assert not hasattr(hybrid, 'up1')
    outs = hybrid.eval()(torch.randn(1, 3, 32, 48))
    assert [tuple(o.shape[1:]) for o in outs] == [(64, 2, 3), (128, 4, 6),
                                                  (64, 8, 12)]
    assert hybrid.out_channels == (64, 128, 64)
    with pytest.raises(ValueError, match="needs both `cnn` and"):
        small_backbone(global_branch=None)
    with pytest.raises(ValueError, match='composition'):
        small_backbone(composition='serial')


def test_vgg_branch_for_table5():
    backbone = small_backbone(global_branch=dict(type='TransFuseVGG'))
    outs = backbone.eval()(torch.randn(1, 3, 32, 32))
    assert outs[3].shape == (1, 512, 2, 2)
    assert outs[5].shape == (1, 16, 8, 8)

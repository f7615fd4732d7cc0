"""SDPAMultiheadAttention: same results and parameter names as mmcv's."""
import pytest
import torch
from mmcv.cnn.bricks.transformer import MultiheadAttention

from mmplugin_transfuse.det.models.layers import SDPAMultiheadAttention
from mmplugin_transfuse.det.models.layers.sdpa_attention import additive_mask

DIM, HEADS = 32, 4


def pair():
    torch.manual_seed(0)
    ref = MultiheadAttention(DIM, HEADS, batch_first=True).eval()
    sdpa = SDPAMultiheadAttention(DIM, HEADS, batch_first=True).eval()
    # mmcv's names load 1:1 (strict)
    sdpa.load_state_dict(ref.state_dict())
    return ref, sdpa


def test_parameter_names_match_mmcv():
    ref, sdpa = pair()
    assert list(sdpa.state_dict()) == list(ref.state_dict()) == [
        'attn.in_proj_weight', 'attn.in_proj_bias', 'attn.out_proj.weight',
        'attn.out_proj.bias'
    ]


@pytest.mark.parametrize('mask_kind', ['none', 'padding', 'float', 'both'])
def test_equals_mmcv_attention(mask_kind):
    ref, sdpa = pair()
    bs, lq, lk = 2, 5, 7
    q, k = torch.randn(bs, lq, DIM), torch.randn(bs, lk, DIM)
    qpos, kpos = torch.randn(bs, lq, DIM), torch.randn(bs, lk, DIM)
    pad = torch.zeros(bs, lk, dtype=torch.bool)
    pad[1, 4:] = True
    bias = torch.randn(bs * HEADS, lq, lk)
    kwargs = dict(query=q, key=k, value=k, query_pos=qpos, key_pos=kpos)
    if mask_kind in ('padding', 'both'):
        kwargs['key_padding_mask'] = pad
    if mask_kind in ('float', 'both'):
        kwargs['attn_mask'] = bias
    with torch.no_grad():
        if mask_kind == 'both':
            # torch would warn about mixing a bool padding mask with a float
            # attn_mask; the SMCA decoder gives it the -inf float form
            ref_kwargs = dict(
                kwargs,
                key_padding_mask=torch.zeros(bs, lk).masked_fill(
                    pad, float('-inf')))
        else:
            ref_kwargs = kwargs
        expected = ref(**ref_kwargs)
        out = sdpa(**kwargs)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)


def test_padded_keys_have_no_effect_and_full_padding_is_finite():
    _, sdpa = pair()
    q, k = torch.randn(1, 3, DIM), torch.randn(1, 6, DIM)
    pad = torch.tensor([[False, False, False, True, True, True]])
    with torch.no_grad():
        out = sdpa(q, k, k, key_padding_mask=pad)
        k2 = k.clone()
        k2[:, 3:] = 1e4  # padded keys/values changed wildly
        torch.testing.assert_close(sdpa(q, k2, k2, key_padding_mask=pad), out)
        # every key padded: no NaN, the attention term is exactly 0, so the
        # output is the shortcut plus the output-projection bias
        empty = sdpa(q, k, k, key_padding_mask=torch.ones_like(pad))
    assert torch.isfinite(empty).all()
    torch.testing.assert_close(empty, q + sdpa.attn.out_proj.bias)


def test_bf16_runs_and_bad_mask_is_rejected():
    _, sdpa = pair()
    sdpa = sdpa.to(torch.bfloat16)
    q = torch.randn(2, 3, DIM, dtype=torch.bfloat16)
    pad = torch.zeros(2, 3, dtype=torch.bool)
    pad[0] = True
    with torch.no_grad():
        out = sdpa(q, key_padding_mask=pad)
    assert out.dtype == torch.bfloat16 and torch.isfinite(out).all()
    with pytest.raises(ValueError, match='key_padding_mask'):
        additive_mask(None, pad[:, :2], 2, HEADS, 3, 3, torch.float32)
    with pytest.raises(ValueError, match='bs \\* num_heads'):
        additive_mask(torch.zeros(3, 3, 3), None, 2, HEADS, 3, 3,
                      torch.float32)


def test_float_mask_cast_to_fp16_stays_finite():
    # a far key's float32 log G below fp16's range must not become -inf
    # (a row of only -inf has nothing to attend to); padding stays -inf
    log_g = torch.full((1 * HEADS, 2, 3), -1e5)
    pad = torch.tensor([[False, False, True]])
    mask = additive_mask(log_g, pad, 1, HEADS, 2, 3, torch.float16)
    assert mask.dtype == torch.float16
    assert torch.isfinite(mask[..., :2]).all()
    assert torch.isneginf(mask[..., 2]).all()


def test_exports_with_a_mask_and_zeroes_only_fully_masked_rows():
    """No branch on the data: ``torch.export`` traces the masked path, and
    the exported graph gives 0 attention (output = the projection bias) to a
    (query, head) whose keys are all masked, in any batch."""
    torch.manual_seed(0)
    sdpa = SDPAMultiheadAttention(16, 2).eval()
    with torch.no_grad():
        sdpa.attn.out_proj.bias.normal_()
    q, k = torch.randn(2, 3, 16), torch.randn(2, 5, 16)
    mask = torch.zeros(2 * 2, 3, 5)
    exported = torch.export.export(
        sdpa, (q, k, k), dict(identity=torch.zeros_like(q), attn_mask=mask))
    mask[0, 1] = float('-inf')  # image 0, head 0, query 1: no key left
    mask[3, 2, :4] = float('-inf')  # image 1, head 1, query 2: one key left
    with torch.no_grad():
        got = exported.module()(
            q, k, k, identity=torch.zeros_like(q), attn_mask=mask)
        # per head by hand: softmax over the unmasked keys, 0 if none
        (wq, bq), (wk, bk), (wv, bv) = (sdpa._in_proj(i) for i in range(3))
        heads = []
        for b in range(2):
            rows = []
            for h in range(2):
                sl = slice(8 * h, 8 * h + 8)
                qh = (q[b] @ wq.T + bq)[:, sl]
                kh = (k[b] @ wk.T + bk)[:, sl]
                vh = (k[b] @ wv.T + bv)[:, sl]
                logits = qh @ kh.T / 8**0.5 + mask[b * 2 + h]
                weights = torch.where(
                    torch.isneginf(logits).all(-1, keepdim=True),
                    torch.zeros_like(logits), logits.softmax(-1))
                rows.append(weights @ vh)
            heads.append(torch.cat(rows, -1))
        want = torch.stack(heads) @ sdpa.attn.out_proj.weight.T + \
            sdpa.attn.out_proj.bias
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    assert torch.isfinite(got).all()

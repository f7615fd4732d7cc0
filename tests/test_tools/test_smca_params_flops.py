"""mmplugin_transfuse.utils.flops and tools/analysis_tools/get_flops.py:
attention products are counted, any det or seg config runs without data."""
import torch
from mmengine import Config
from mmengine.analysis import FlopAnalyzer

from mmplugin_transfuse.det.models.layers import SDPAMultiheadAttention
from mmplugin_transfuse.utils.flops import sdpa_flop_jit
from ..conftest import CONFIG_ROOT, load_tool

SMCA_SYN = (f'{CONFIG_ROOT}/smca_detr/'
            'smca-detr_r18_1xb8-36e_synthetic-shapes-160x160.py')


def test_sdpa_flops_are_qk_plus_av_multiply_adds():
    dim, heads, bs, lq, lk = 32, 4, 2, 5, 7
    attn = SDPAMultiheadAttention(dim, heads).eval()
    q, k = torch.randn(bs, lq, dim), torch.randn(bs, lk, dim)
    analyzer = FlopAnalyzer(attn, (q, k, k))
    analyzer.set_op_handle('aten::scaled_dot_product_attention',
                           sdpa_flop_jit)
    analyzer.unsupported_ops_warnings(False)
    by_op = analyzer.by_operator()
    # Q K^T and A V: bs * heads * lq * lk * head_dims multiply-adds each
    assert by_op['scaled_dot_product_attention'] == 2 * bs * heads * lq * \
        lk * (dim // heads)
    # the four projections are mmengine's linear handle
    assert by_op['linear'] == bs * (lq + 2 * lk) * dim * dim + bs * lq * \
        dim * dim


def test_get_flops_counts_a_detector_without_a_dataset():
    result = load_tool('analysis_tools/get_flops.py').main(
        [SMCA_SYN, '--shape', '64', '96'])
    assert result['task'] == 'det' and result['shape'] == (3, 64, 96)
    model = Config.fromfile(SMCA_SYN).model
    dim = model.decoder.layer_cfg.cross_attn_cfg.embed_dims
    nq = model.num_queries
    # ResNet C4 (stride 16): a 4 x 6 key grid; Q K^T + A V over all heads
    # = 2 * L_q * L_k * dim per attention
    assert tuple(model.backbone.out_indices) == (2, )
    keys = (64 // 16) * (96 // 16)
    want = (model.encoder.num_layers * 2 * keys * keys * dim +
            model.decoder.num_layers * 2 * (nq * nq + nq * keys) * dim)
    assert result['attention_flops'] == want
    assert result['flops'] > result['attention_flops']

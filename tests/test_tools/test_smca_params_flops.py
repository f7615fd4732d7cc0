"""tools/analysis_tools/smca_params_flops.py counts the fused attention."""
import torch
from mmengine.analysis import FlopAnalyzer

from mmplugin_transfuse.det.models.layers import SDPAMultiheadAttention
from ..conftest import load_tool

tool = load_tool('analysis_tools/smca_params_flops.py')


def test_sdpa_flops_are_qk_plus_av_multiply_adds():
    dim, heads, bs, lq, lk = 32, 4, 2, 5, 7
    attn = SDPAMultiheadAttention(dim, heads).eval()
    q, k = torch.randn(bs, lq, dim), torch.randn(bs, lk, dim)
    analyzer = FlopAnalyzer(attn, (q, k, k))
    analyzer.set_op_handle('aten::scaled_dot_product_attention',
                           tool.sdpa_flop_jit)
    analyzer.unsupported_ops_warnings(False)
    by_op = analyzer.by_operator()
    # Q K^T and A V: bs * heads * lq * lk * head_dims multiply-adds each
    assert by_op['scaled_dot_product_attention'] == 2 * bs * heads * lq * \
        lk * (dim // heads)
    # the four projections are mmengine's linear handle
    assert by_op['linear'] == bs * (lq + 2 * lk) * dim * dim + bs * lq * \
        dim * dim

"""Multi-head attention through ``F.scaled_dot_product_attention``, in pieces.

mmcv's :class:`~mmcv.cnn.bricks.transformer.MultiheadAttention` calls
``nn.MultiheadAttention`` with ``need_weights=True``, which materialises and
head-averages the ``(bs, heads, Lq, Lk)`` attention matrix (8 x 5.5k x 5.5k
floats per image in multi-scale SMCA's encoder at 800x1333).
``nn.MultiheadAttention`` with ``need_weights=False`` already runs
``scaled_dot_product_attention``; :class:`SDPAMultiheadAttention` holds one
(so the parameter names are mmcv's: ``attn.in_proj_weight``,
``attn.in_proj_bias``, ``attn.out_proj.*``, and checkpoints load into
either) and adds only what its forward lacks:

* **the pieces** (:meth:`~SDPAMultiheadAttention.project_query`,
  :meth:`~SDPAMultiheadAttention.project_key_value`,
  :meth:`~SDPAMultiheadAttention.attend`,
  :meth:`~SDPAMultiheadAttention.project_output`), so that multi-scale SMCA
  projects the memory once and runs one softmax per level
  (:class:`SMCAMultiScaleDecoderLayer`);
* **broadcast masks**: a ``(bs, 1, 1, Lk)`` padding mask or a ``(bs, heads,
  Lq, Lk)`` bias reaches SDPA as it is (``nn.MultiheadAttention`` takes only
  ``(Lq, Lk)`` or ``(bs * heads, Lq, Lk)``), and a float mask cast to a
  narrower dtype keeps finite values finite;
* **fully-masked rows**: a (query, head) whose keys are all masked attends to
  nothing (output 0 before the output projection) on every backend and
  dtype, instead of softmax's NaN; computed with masking only (no
  data-dependent branch), so the module traces for ``torch.export`` /
  ``torch.compile``.

It keeps mmcv's forward signature (identity, ``query_pos``/``key_pos``,
dropout semantics), so configs swap one for the other. Masks follow torch's
conventions: a bool mask is True where attention is *not* allowed; a float
mask is added to the logits.
"""
import warnings
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn.bricks.drop import build_dropout
from mmengine.model import BaseModule
from torch import Tensor, nn


def _to_dtype(mask: Tensor, dtype: torch.dtype) -> Tensor:
    """Cast a float mask, keeping finite values finite: e.g. a float32
    ``log G`` of -7e4 would become ``-inf`` in fp16 (autocast), and a query
    whose keys all did would have nothing to attend to; ``-inf`` stays."""
    if mask.dtype == dtype:
        return mask
    floor = torch.finfo(dtype).min / 2
    mask = torch.where(torch.isneginf(mask), mask, mask.clamp(min=floor))
    return mask.to(dtype)


def float_padding_mask(mask: Tensor, dtype: torch.dtype) -> Tensor:
    """A bool mask (True = masked) as an additive float mask: ``-inf`` where
    masked, 0 elsewhere; a float mask is cast with :func:`_to_dtype`."""
    if mask.dtype == torch.bool:
        return torch.zeros_like(mask, dtype=dtype).masked_fill(
            mask, float('-inf'))
    return _to_dtype(mask, dtype)


def additive_mask(attn_mask: Optional[Tensor],
                  key_padding_mask: Optional[Tensor], bs: int,
                  num_heads: int, num_queries: int, num_keys: int,
                  dtype: torch.dtype) -> Optional[Tensor]:
    """Merge torch-style masks into one additive float mask.

    Args:
        attn_mask (Tensor, optional): ``(Lq, Lk)``, ``(bs * heads, Lq, Lk)``
            (batch-major, as ``nn.MultiheadAttention``) or ``(bs, heads,
            Lq, Lk)``; bool (True = masked) or float (added to the logits).
        key_padding_mask (Tensor, optional): ``(bs, Lk)``; bool (True =
            padding) or float (added).
        bs, num_heads, num_queries, num_keys (int): Attention sizes.
        dtype (torch.dtype): dtype of the result (the query's).

    Returns:
        Tensor or None: broadcastable to ``(bs, heads, Lq, Lk)``; ``-inf``
        where masked.
    """
    mask = None
    if attn_mask is not None:
        if attn_mask.dim() == 2:
            mask = attn_mask.view(1, 1, num_queries, num_keys)
        elif attn_mask.dim() == 3:
            if attn_mask.size(0) != bs * num_heads:
                raise ValueError(
                    'SDPAMultiheadAttention: a 3-d `attn_mask` must be '
                    f'(bs * num_heads, Lq, Lk) = ({bs * num_heads}, '
                    f'{num_queries}, {num_keys}), got '
                    f'{tuple(attn_mask.shape)}')
            mask = attn_mask.view(bs, num_heads, num_queries, num_keys)
        elif attn_mask.dim() == 4:
            mask = attn_mask
        else:
            raise ValueError('SDPAMultiheadAttention: `attn_mask` must be 2-, '
                             f'3- or 4-d, got {tuple(attn_mask.shape)}')
        mask = float_padding_mask(mask, dtype)
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bs, num_keys):
            raise ValueError(
                'SDPAMultiheadAttention: `key_padding_mask` must be (bs, Lk) '
                f'= ({bs}, {num_keys}), got {tuple(key_padding_mask.shape)}')
        pad = float_padding_mask(key_padding_mask.view(bs, 1, 1, num_keys),
                                 dtype)
        mask = pad if mask is None else mask + pad
    return mask


class SDPAMultiheadAttention(BaseModule):
    """mmcv-compatible multi-head attention on
    ``F.scaled_dot_product_attention``.

    Args:
        embed_dims (int): Model width.
        num_heads (int): Number of heads (``embed_dims`` divisible by it).
        attn_drop (float): Dropout on the attention probabilities (while
            training). Defaults to 0.
        proj_drop (float): Dropout after the output projection. Defaults
            to 0.
        dropout_layer (dict, optional): mmcv dropout applied before the
            identity shortcut. Defaults to ``Dropout(0)``.
        batch_first (bool): Only True is supported (all DETR-family layers
            in mmdet 3.x are batch-first).
        dropout (float, optional): mmcv's deprecated shorthand, sets
            ``attn_drop`` and the ``dropout_layer`` probability (not
            ``proj_drop``), exactly as mmcv does.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 attn_drop: float = 0.,
                 proj_drop: float = 0.,
                 dropout_layer: Optional[dict] = None,
                 batch_first: bool = True,
                 dropout: Optional[float] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if not batch_first:
            raise ValueError('SDPAMultiheadAttention: only `batch_first=True`'
                             ' is supported')
        if embed_dims % num_heads:
            raise ValueError(
                f'SDPAMultiheadAttention: `embed_dims` ({embed_dims}) must be '
                f'divisible by `num_heads` ({num_heads})')
        dropout_layer = dict(dropout_layer or dict(type='Dropout',
                                                   drop_prob=0.))
        if dropout is not None:
            attn_drop = dropout
            dropout_layer['drop_prob'] = dropout
        self.embed_dims = embed_dims
        self.num_heads = num_heads
        self.head_dims = embed_dims // num_heads
        self.batch_first = True
        self.attn_drop = float(attn_drop)
        # holds the parameters under mmcv's names; its forward is not used
        self.attn = nn.MultiheadAttention(
            embed_dims, num_heads, dropout=attn_drop, batch_first=True)
        self.proj_drop = nn.Dropout(proj_drop)
        self.dropout_layer = build_dropout(dropout_layer)

    # The pieces are public so that attention variants (SMCA's multi-scale
    # co-attention) can reuse the projections with their own mixing.
    def project_query(self, query: Tensor) -> Tensor:
        """``(bs, Lq, dim)`` -> per-head queries ``(bs, heads, Lq, d)``."""
        w, b = self._in_proj(0)
        return self._split_heads(F.linear(query, w, b))

    def project_key_value(self, key: Tensor,
                          value: Tensor) -> Tuple[Tensor, Tensor]:
        """Per-head keys and values, each ``(bs, heads, Lk, d)``."""
        wk, bk = self._in_proj(1)
        wv, bv = self._in_proj(2)
        return (self._split_heads(F.linear(key, wk, bk)),
                self._split_heads(F.linear(value, wv, bv)))

    def attend(self, q: Tensor, k: Tensor, v: Tensor,
               mask: Optional[Tensor]) -> Tensor:
        """``softmax(q k^T / sqrt(d) + mask) v`` per head, NaN-safe.

        Args:
            q (Tensor): ``(bs, heads, Lq, d)``.
            k, v (Tensor): ``(bs, heads, Lk, d)``.
            mask (Tensor, optional): Additive float mask broadcastable to
                ``(bs, heads, Lq, Lk)`` (see :func:`additive_mask`).

        Returns:
            Tensor: ``(bs, heads, Lq, d)``; rows whose keys are all masked
            are 0.
        """
        if mask is None:
            return F.scaled_dot_product_attention(
                q, k, v, dropout_p=self.attn_drop if self.training else 0.)
        mask = mask.to(q.dtype)
        # softmax over only -inf is NaN: such rows (all keys masked) get a
        # finite mask and their output is zeroed afterwards; a row is all
        # -inf iff its maximum is. Masking instead of a branch on the data
        # keeps the graph static (export, compile).
        empty = torch.isneginf(mask.detach().amax(dim=-1, keepdim=True))
        out = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=mask.masked_fill(empty, 0.),
            dropout_p=self.attn_drop if self.training else 0.)
        return out.masked_fill(empty, 0.)

    def project_output(self, out: Tensor) -> Tensor:
        """Merge heads ``(bs, heads, Lq, d)`` -> ``(bs, Lq, dim)`` and apply
        the output projection and ``proj_drop``."""
        bs, _, num_queries, _ = out.shape
        out = out.transpose(1, 2).reshape(bs, num_queries, self.embed_dims)
        out = F.linear(out, self.attn.out_proj.weight, self.attn.out_proj.bias)
        return self.proj_drop(out)

    def forward(self,
                query: Tensor,
                key: Optional[Tensor] = None,
                value: Optional[Tensor] = None,
                identity: Optional[Tensor] = None,
                query_pos: Optional[Tensor] = None,
                key_pos: Optional[Tensor] = None,
                attn_mask: Optional[Tensor] = None,
                key_padding_mask: Optional[Tensor] = None,
                **kwargs) -> Tensor:
        """Same contract as mmcv's ``MultiheadAttention.forward``
        (batch-first).

        Args:
            query (Tensor): ``(bs, Lq, dim)``.
            key (Tensor, optional): ``(bs, Lk, dim)``; ``query`` if None.
            value (Tensor, optional): ``(bs, Lk, dim)``; ``key`` if None.
            identity (Tensor, optional): Shortcut; ``query`` if None.
            query_pos (Tensor, optional): Added to ``query``.
            key_pos (Tensor, optional): Added to ``key``; ``query_pos`` if
                None and shapes agree (mmcv's rule).
            attn_mask (Tensor, optional): See :func:`additive_mask`.
            key_padding_mask (Tensor, optional): ``(bs, Lk)``.

        Returns:
            Tensor: ``identity + dropout(attention)``, ``(bs, Lq, dim)``.
        """
        if key is None:
            key = query
        if value is None:
            value = key
        if identity is None:
            identity = query
        if key_pos is None and query_pos is not None:
            if query_pos.shape == key.shape:
                key_pos = query_pos
            else:
                warnings.warn('SDPAMultiheadAttention: position encoding of '
                              'key is missing')
        if query_pos is not None:
            query = query + query_pos
        if key_pos is not None:
            key = key + key_pos
        bs, num_queries, _ = query.shape
        q = self.project_query(query)
        k, v = self.project_key_value(key, value)
        mask = additive_mask(attn_mask, key_padding_mask, bs,
                             self.num_heads, num_queries, k.size(2), q.dtype)
        out = self.project_output(self.attend(q, k, v, mask))
        return identity + self.dropout_layer(out)

    def _in_proj(self, index: int) -> Tuple[Tensor, Optional[Tensor]]:
        """Rows ``index`` (0 q, 1 k, 2 v) of the packed input projection."""
        dim = self.embed_dims
        weight = self.attn.in_proj_weight[index * dim:(index + 1) * dim]
        bias = self.attn.in_proj_bias
        if bias is not None:
            bias = bias[index * dim:(index + 1) * dim]
        return weight, bias

    def _split_heads(self, x: Tensor) -> Tensor:
        """``(bs, L, dim)`` -> ``(bs, heads, L, d)``."""
        bs, length, _ = x.shape
        return x.view(bs, length, self.num_heads,
                      self.head_dims).transpose(1, 2)

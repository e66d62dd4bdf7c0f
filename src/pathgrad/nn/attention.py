"""MultiheadAttention, as torch.nn.MultiheadAttention: packed in_proj_weight (or separate
q/k/v weights where kdim or vdim differ), out_proj, and PyTorch's masks."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pathgrad.creation import empty
from pathgrad.errors import ShapeError
from pathgrad.nn import functional as F
from pathgrad.nn import init
from pathgrad.nn.layers import Linear, _factory
from pathgrad.nn.module import Module, Parameter
from pathgrad.ops.elementwise import where
from pathgrad.ops.linalg import matmul
from pathgrad.ops.reduce import mean, softmax
from pathgrad.ops.shape import reshape, transpose, unsqueeze
from pathgrad.tensor import as_tensor


class MultiheadAttention(Module):
    """Attention over num_heads heads of embed_dim / num_heads each. Inputs (L, N, E), or
    (N, L, E) with batch_first, or unbatched (L, E); returns (output, weights averaged over
    heads, or per head, or None when need_weights is False)."""

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        options = _factory(dtype, device)
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError(
                "MultiheadAttention: add_bias_kv and add_zero_attn are not supported"
            )
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(
                f"MultiheadAttention: embed_dim {embed_dim} must be divisible by num_heads "
                f"{num_heads}"
            )
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.batch_first, self.head_dim = batch_first, embed_dim // num_heads
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(empty((3 * embed_dim, embed_dim), **options))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(empty((embed_dim, embed_dim), **options))
            self.k_proj_weight = Parameter(empty((embed_dim, self.kdim), **options))
            self.v_proj_weight = Parameter(empty((embed_dim, self.vdim), **options))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, **options))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, **options)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)

    def _projections(self):
        e = self.embed_dim
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            weights = (w[:e], w[e : 2 * e], w[2 * e :])
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        b = self.in_proj_bias
        biases = (None, None, None) if b is None else (b[:e], b[e : 2 * e], b[2 * e :])
        return weights, biases

    def forward(
        self,
        query,
        key,
        value,
        key_padding_mask=None,
        need_weights: bool = True,
        attn_mask=None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ):
        q_in, k_in, v_in = (as_tensor(t) for t in (query, key, value))
        if is_causal and attn_mask is None:
            raise RuntimeError(
                "MultiheadAttention: need attn_mask if specifying the is_causal hint (as "
                "PyTorch's; pass the causal mask itself)"
            )
        unbatched = q_in.ndim == 2
        if unbatched:
            q_in, k_in, v_in = (unsqueeze(t, 1) for t in (q_in, k_in, v_in))
            if key_padding_mask is not None:
                key_padding_mask = unsqueeze(as_tensor(key_padding_mask), 0)
        elif self.batch_first:
            q_in, k_in, v_in = (transpose(t, 0, 1) for t in (q_in, k_in, v_in))
        if q_in.ndim != 3 or q_in.shape[-1] != self.embed_dim:
            raise ShapeError(
                f"MultiheadAttention: query of shape {tuple(as_tensor(query).shape)} must be "
                f"(L, N, {self.embed_dim}) (or batch first, or unbatched)"
            )
        length, batch, _ = q_in.shape
        source = k_in.shape[0]
        heads, head_dim = self.num_heads, self.head_dim
        (wq, wk, wv), (bq, bk, bv) = self._projections()

        def split_heads(t, steps):  # (steps, N, E) -> (N, heads, steps, head_dim)
            return transpose(reshape(t, (steps, batch, heads, head_dim)), 0, 2).permute(1, 0, 2, 3)

        q = split_heads(F.linear(q_in, wq, bq), length)
        k = split_heads(F.linear(k_in, wk, bk), source)
        v = split_heads(F.linear(v_in, wv, bv), source)
        scores = matmul(q, transpose(k, -2, -1)) * (1.0 / math.sqrt(head_dim))
        scores = self._masked(scores, attn_mask, key_padding_mask, batch, length, source)
        weights = softmax(scores, -1)
        if self.dropout > 0.0 and self.training:
            weights = F.dropout(weights, self.dropout)
        attended = matmul(weights, v)  # (N, heads, L, head_dim)
        merged = reshape(attended.permute(2, 0, 1, 3), (length, batch, self.embed_dim))
        output = self.out_proj(merged)
        if unbatched:
            output = output[:, 0]
        elif self.batch_first:
            output = transpose(output, 0, 1)
        if not need_weights:
            return output, None
        if average_attn_weights:
            weights = mean(weights, 1)
        if unbatched:
            weights = weights[0]
        return output, weights

    def _masked(self, scores, attn_mask, key_padding_mask, batch, length, source):
        """Masks, as PyTorch's MHA reads them: True (or -inf) where attention is not allowed."""
        heads = self.num_heads
        if attn_mask is not None:
            mask = as_tensor(attn_mask)
            if mask.ndim == 3:
                if tuple(mask.shape) != (batch * heads, length, source):
                    raise ShapeError(
                        "MultiheadAttention: 3-D attn_mask must be "
                        f"{(batch * heads, length, source)}, "
                        f"got {tuple(mask.shape)}"
                    )
                mask = reshape(mask, (batch, heads, length, source))
            elif tuple(mask.shape) != (length, source):
                raise ShapeError(
                    f"MultiheadAttention: 2-D attn_mask must be {(length, source)}, got "
                    f"{tuple(mask.shape)}"
                )
            if mask.dtype == np.bool_:
                scores = where(mask._data, -math.inf, scores)
            else:
                scores = scores + mask
        if key_padding_mask is not None:
            padding = as_tensor(key_padding_mask)
            if tuple(padding.shape) != (batch, source):
                raise ShapeError(
                    f"MultiheadAttention: key_padding_mask must be {(batch, source)}, got "
                    f"{tuple(padding.shape)}"
                )
            view = padding._data.reshape(batch, 1, 1, source)
            if padding.dtype == np.bool_:
                scores = where(view, -math.inf, scores)
            else:
                scores = scores + view
        return scores

    def extra_repr(self) -> str:
        return ""

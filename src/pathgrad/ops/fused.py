"""Fused primitives of the neural-network layers: linear, embedding, cross-entropy and the two
normalisations.

Each is a composite fused for speed (they run in every training step) and, for cross-entropy,
for stability at logits of +-1e4. Their rules have two forms: a first-order backward (recording
off, as in every `loss.backward()`) computed in NumPy from what the forward kept, and, under
`create_graph=True`, the same formula in pathgrad's ops recomputed from the inputs, so that it
differentiates again. The gradcheck sweep tests the first, the second-order sweep the second.
"""

from __future__ import annotations

import math

import numpy as np

from pathgrad.autodiff import grad_mode
from pathgrad.ops.index import _Normalized, add_at, index_put_zeros
from pathgrad.ops.linalg import batched_matmul
from pathgrad.ops.reduce import log_softmax, mean, softmax, sum
from pathgrad.ops.registry import NUMBER_TYPES, op, value, wrap
from pathgrad.ops.shape import reshape, unsqueeze

_recording = grad_mode.recording.get
_add = np.add.reduce  # array.sum() less numpy's Python-level wrapper, on every training step


@op(
    "linear",
    inputs=3,
    rule=(
        "dL/dx = dL/dout @ weight; dL/dweight = dL/dout^T @ x; "
        "dL/dbias = dL/dout summed over the batch"
    ),
)
def linear(x, weight, bias):
    """x @ weight^T + bias for x (..., in), weight (out, in), bias (out,) or 0 where the layer
    has none: PyTorch's addmm, one node where matmul and a broadcast add were three. Its rule
    is the seed derivation: dL/dx = grad @ weight, dL/dweight = grad^T @ x,
    dL/dbias = grad.sum(0) (over every leading dim)."""
    data, w = x._data, weight._data
    rows = data.reshape(-1, data.shape[-1]) if data.ndim != 2 else data
    product = rows @ w.T
    b = value(bias)
    out = product if not isinstance(b, np.ndarray) else product + b
    out_shape = data.shape[:-1] + (w.shape[0],)

    x_shape, outs = data.shape, w.shape[0]

    # under create_graph each formula runs in ops, so that it differentiates again
    def grad_x(grad, weight=weight):
        if _recording():
            return reshape(batched_matmul(reshape(grad, (-1, outs)), weight), x_shape)
        return wrap((_rows(grad._data, outs) @ w).reshape(x_shape))

    def grad_weight(grad, x=x):
        if _recording():
            return batched_matmul(reshape(grad, (-1, outs)), reshape(x, rows.shape), True, False)
        return wrap(_rows(grad._data, outs).T @ rows)

    def grad_bias(grad):
        if _recording():
            return sum(reshape(grad, (-1, outs)), 0)
        return wrap(_add(_rows(grad._data, outs), 0))

    return (out.reshape(out_shape) if data.ndim != 2 else out), (grad_x, grad_weight, grad_bias)


def _rows(g, columns):
    return g if g.ndim == 2 else g.reshape(-1, columns)


@op(
    "embedding",
    inputs=1,
    rule="dL/dweight = zeros(weight.shape) with dL/dout added at rows indices",
)
def embedding(weight, indices, padding_idx=None):
    """weight[indices]: the rows an integer array picks; repeated rows add their gradients,
    and the row at padding_idx gets none, as PyTorch's embedding."""
    out = weight._data[indices]
    shape, dtype = weight._data.shape, weight._data.dtype  # not the table: no raw input memory

    def vjp(grad):
        if _recording():
            grad_w = index_put_zeros(grad, shape, _Normalized((indices,), True))
            if padding_idx is None:
                return grad_w
            keep = np.ones((shape[0],) + (1,) * (len(shape) - 1), dtype=dtype)
            keep[padding_idx] = 0
            return grad_w * keep
        summed = np.zeros(shape, dtype=grad._data.dtype)
        add_at(summed, (indices,), grad._data)
        if padding_idx is not None:
            summed[padding_idx] = 0
        return wrap(summed)

    return out, vjp


@op(
    "cross_entropy_loss",
    inputs=2,
    rule=(
        "dL/dx = (softmax(x) * sum(q) - q) * dL/dout / denominator; "
        "dL/dq = -log_softmax(x) * dL/dout / denominator"
    ),
)
def cross_entropy_loss(x, q, class_dim, denominator, reduction):
    """-sum_c q_c log_softmax(x)_c per sample, then summed or divided by `denominator`.

    `q` holds each class's coefficient: the target distribution times the class weights, with
    label smoothing mixed in (F.cross_entropy builds it). One primitive, so the log-softmax
    never leaves it and its rule is one line:
    dL/dx = grad (softmax(x) sum_c q_c - q), dL/dq = -grad log_softmax(x).
    """
    data, coefficients = x._data, q._data
    shifted = data - np.maximum.reduce(data, axis=class_dim, keepdims=True)
    exps = np.exp(shifted)
    sums = _add(exps, class_dim, keepdims=True)
    log_probs = shifted - np.log(sums)
    per_sample = -_add(coefficients * log_probs, class_dim)
    out = per_sample if reduction == "none" else _add(per_sample, None)
    if reduction == "mean":
        out = out / denominator
    scale = 1.0 / denominator if reduction == "mean" else 1.0  # the rule's factor

    q_dtype = coefficients.dtype

    def spread(grad):  # the rule's factor, along the class dim where the loss is per sample
        g = grad * scale
        if reduction != "none":
            return g
        return unsqueeze(g, class_dim) if _recording() else np.expand_dims(g, class_dim)

    def grad_x(grad, x=x, q=q):
        if _recording():  # create_graph: the formula in ops, from x, so it differentiates again
            return (softmax(x, class_dim) * sum(q, class_dim, keepdim=True) - q) * spread(grad)
        grad_x = exps / sums * _add(coefficients, class_dim, keepdims=True) - coefficients
        return wrap((grad_x * spread(grad._data)).astype(data.dtype, copy=False))

    def grad_q(grad, x=x):
        if _recording():
            return -log_softmax(x, class_dim) * spread(grad)
        return wrap((-log_probs * spread(grad._data)).astype(q_dtype, copy=False))

    return out.astype(data.dtype, copy=False), (grad_x, grad_q)


def _normalized(data, dims, eps):
    # sums times 1/n rather than .mean(), whose Python-level wrapper costs more than the work
    # at a layer's sizes
    scale = 1 / np.asarray(math.prod(data.shape[d] for d in dims), data.dtype)
    mean_ = _add(data, dims, keepdims=True) * scale
    centred = data - mean_
    variance = _add(centred * centred, dims, keepdims=True) * scale
    inverse_std = 1 / np.sqrt(variance + eps)
    centred *= inverse_std  # x_hat, in the array centred was
    return centred, inverse_std, mean_, variance, scale


def _normalize_affine(x, weight, bias, dims, view_shape, shared_axes, eps, stats):
    """(x - mean) / sqrt(var + eps) * weight + bias, mean and biased var over `dims`; weight and
    bias seen as `view_shape`, which broadcasts against x, and shared along `shared_axes`.
    batch_norm_train and layer_norm share it: their rule is one formula with other dims."""
    data = x._data
    x_hat, inverse_std, mean_, variance, scale = _normalized(data, dims, eps)
    if stats is not None:
        stats.extend((mean_, variance))
    w = value(weight)
    w_view = w.reshape(view_shape) if isinstance(w, np.ndarray) else w
    b = value(bias)
    out = x_hat * w_view
    out += b.reshape(view_shape) if isinstance(b, np.ndarray) else b  # in place: one array less

    # under create_graph each formula runs in ops, recomputed from x, so it differentiates again
    def grad_x(grad, x=x, weight=weight):
        if _recording():
            normalized, inverse = _normalized_in_ops(x, dims, eps)
            scaled = grad * (
                weight if type(weight) in NUMBER_TYPES else reshape(weight, view_shape)
            )
            return inverse * (
                scaled
                - mean(scaled, dims, keepdim=True)
                - normalized * mean(scaled * normalized, dims, keepdim=True)
            )
        g_hat = grad._data * w_view
        grad_x = inverse_std * (
            g_hat
            - _add(g_hat, dims, keepdims=True) * scale
            - x_hat * (_add(g_hat * x_hat, dims, keepdims=True) * scale)
        )
        return wrap(grad_x.astype(x_dtype, copy=False))

    def grad_weight(grad, x=x):
        if _recording():
            return reshape(sum(grad * _normalized_in_ops(x, dims, eps)[0], shared_axes), w_shape)
        return wrap(_add(grad._data * x_hat, shared_axes).reshape(w_shape).astype(w_dtype))

    def grad_bias(grad):
        if _recording():
            return reshape(sum(grad, shared_axes), b_shape)
        return wrap(_add(grad._data, shared_axes).reshape(b_shape).astype(b_dtype))

    # shapes and dtypes, not the arrays: a formula keeps no raw memory of an input it does not save
    x_dtype, w_shape, w_dtype, b_shape, b_dtype = (
        data.dtype,
        np.shape(w),
        _dtype(w),
        np.shape(b),
        _dtype(b),
    )
    return out.astype(x_dtype, copy=False), (grad_x, grad_weight, grad_bias)


def _dtype(value):
    return value.dtype if isinstance(value, np.ndarray) else None


def _normalized_in_ops(x, dims, eps):
    """x_hat and 1 / sqrt(var + eps), in pathgrad's ops."""
    centred = x - mean(x, dims, keepdim=True)
    inverse_std = (mean(centred * centred, dims, keepdim=True) + eps) ** -0.5
    return centred * inverse_std, inverse_std


@op(
    "batch_norm_train",
    inputs=3,
    rule=(
        "dL/dx = (g - mean(g) - xhat * mean(g * xhat)) / sigma, g = dL/dout * weight; "
        "dL/dweight = sum(dL/dout * xhat); dL/dbias = sum(dL/dout)"
    ),
)
def batch_norm_train(x, weight, bias, eps=1e-5, stats=None):
    """Batch normalisation with the batch's own statistics (per channel, dim 1, over every
    other dim); `weight` and `bias` are (C,) tensors, or numbers where the layer has none.
    `stats`, a list, receives the batch mean and biased variance for the running estimates.
    Rule: dL/dx = (g_hat - mean(g_hat) - x_hat mean(g_hat x_hat)) / std, g_hat = grad weight;
    dL/dweight = sum(grad x_hat), dL/dbias = sum(grad)."""
    data = x._data
    dims = (0,) + tuple(range(2, data.ndim))
    view_shape = (data.shape[1],) + (1,) * (data.ndim - 2)
    return _normalize_affine(x, weight, bias, dims, view_shape, dims, eps, stats)


@op(
    "layer_norm",
    inputs=3,
    rule=(
        "dL/dx = (g - mean(g) - xhat * mean(g * xhat)) / sigma, g = dL/dout * weight; "
        "dL/dweight = sum(dL/dout * xhat); dL/dbias = sum(dL/dout)"
    ),
)
def layer_norm(x, weight, bias, normalized_dims=1, eps=1e-5):
    """Layer normalisation over the last `normalized_dims` dims, with an elementwise weight and
    bias of those dims' shape (numbers where the layer has none); batch_norm_train's rule."""
    data = x._data
    dims = tuple(range(data.ndim - normalized_dims, data.ndim))
    view_shape = data.shape[data.ndim - normalized_dims :]
    leading = tuple(range(data.ndim - normalized_dims))
    return _normalize_affine(x, weight, bias, dims, view_shape, leading, eps, None)

"""pathgrad.nn.functional: PyTorch's torch.nn.functional over pathgrad's ops.

Almost everything here is a composite of primitives and gets its gradient from them; the
exceptions are the fused ops of `pathgrad.ops.fused` (cross-entropy, batch and layer norm), fused
for speed and stability, and the padding primitive.
"""

from __future__ import annotations

import math
import operator
import warnings

import numpy as np

from pathgrad import random, versions
from pathgrad.errors import ShapeError
from pathgrad.ops import fused
from pathgrad.ops.elementwise import (
    abs,
    clamp,
    exp,
    gelu,
    log,
    logaddexp,
    relu,
    sigmoid,
    silu,
    softplus,
    tanh,
    where,
    xlogy,
)
from pathgrad.ops.index import index_select, one_hot
from pathgrad.ops.linalg import einsum, matmul
from pathgrad.ops.reduce import log_softmax as _log_softmax
from pathgrad.ops.reduce import mean, norm, sum
from pathgrad.ops.reduce import softmax as _softmax
from pathgrad.ops.registry import as_weak
from pathgrad.ops.shape import constant_pad, reshape, transpose, unsqueeze
from pathgrad.tensor import Tensor, as_tensor, from_array

__all__ = [
    "batch_norm",
    "bilinear",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv1d",
    "cross_entropy",
    "dropout",
    "elu",
    "embedding",
    "gelu",
    "hardtanh",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsigmoid",
    "mse_loss",
    "nll_loss",
    "normalize",
    "one_hot",
    "pad",
    "relu",
    "relu6",
    "scaled_dot_product_attention",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softplus",
    "tanh",
]

REDUCTIONS = ("none", "mean", "sum")


def linear(input, weight, bias=None):
    """input @ weight.T + bias, for input (..., in_features) and weight (out, in): one fused
    node, PyTorch's addmm.

    >>> F.linear(pg.ones(2, 3), pg.ones(4, 3)).shape
    pathgrad.Size([2, 4])
    """
    x, w = as_tensor(input), as_tensor(weight)
    if w._data.ndim != 2 or x._data.ndim == 0 or x._data.shape[-1] != w._data.shape[1]:
        raise ShapeError(
            f"linear: input of shape {x.shape} does not fit weight of shape {w.shape} (expected "
            f"input (..., {w.shape[-1] if w._data.ndim else '?'}) and weight (out, in))"
        )
    b = 0 if bias is None else as_tensor(bias)
    if bias is not None and b._data.shape != (w._data.shape[0],):
        raise ShapeError(f"linear: bias of shape {b.shape} must be ({w._data.shape[0]},)")
    dtype = x._data.dtype
    if w._data.dtype != dtype or (bias is not None and b._data.dtype != dtype):
        dtypes = {dtype, w._data.dtype} | (set() if bias is None else {b._data.dtype})
        raise TypeError(
            f"linear: input, weight and bias must have one dtype, got "
            f"{', '.join(sorted(str(d) for d in dtypes))} (as PyTorch: cast one with .to())"
        )
    if x._data.ndim == 1:
        return fused.linear(unsqueeze(x, 0), w, b)[0]
    return fused.linear(x, w, b)


def bilinear(input1, input2, weight, bias=None):
    """x1^T A x2 + b per output feature: weight (out, in1, in2)."""
    out = einsum("...i,oij,...j->...o", input1, weight, input2)
    return out if bias is None else out + bias


def embedding(
    input,
    weight,
    padding_idx=None,
    max_norm=None,
    norm_type=2.0,
    scale_grad_by_freq=False,
    sparse=False,
):
    """Rows of `weight` picked by the integer `input` (any shape); the row at `padding_idx`
    gets no gradient, as PyTorch's."""
    indices = as_tensor(input)
    w = as_tensor(weight)
    if indices._data.dtype.kind not in "iu":  # a dtype error: RuntimeError, as PyTorch
        raise RuntimeError(
            f"embedding: indices must be integers (int64), got dtype {indices._data.dtype}"
        )
    rows = w._data.shape[0]
    picked = indices._data
    in_range = not picked.size or (
        np.minimum.reduce(picked, axis=None) >= 0 and np.maximum.reduce(picked, axis=None) < rows
    )
    if not in_range:
        bad = (picked < 0) | (picked >= rows)
        raise IndexError(
            f"embedding: index {indices._data[bad].flat[0]} is out of range for {rows} rows "
            f"(expected indices in [0, {rows - 1}])"
        )
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq and sparse are not supported")
    if max_norm is not None:
        _renormalize_rows(w, indices._data, max_norm, norm_type)
    if padding_idx is not None:
        padding_idx = _padding_index(padding_idx, rows)
    # a copy, as getitem's index: the rule keeps the rows it read, whatever later happens to
    # the index tensor in place
    return fused.embedding(w, indices._data.copy(), padding_idx)


def _padding_index(padding_idx, rows):
    if not -rows <= padding_idx < rows:
        raise ValueError(f"embedding: padding_idx {padding_idx} must be within [-{rows}, {rows})")
    return padding_idx % rows


def _renormalize_rows(w, indices, max_norm, norm_type):
    """The rows `indices` reads, scaled in place to norm at most max_norm (as PyTorch, no grad)."""
    rows = np.unique(indices)
    data = w._data
    norms = np.linalg.norm(data[rows], ord=norm_type, axis=1)
    scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    data[rows] *= scale[:, None].astype(data.dtype)
    versions.record_change(w._base if w._base is not None else w, "embedding(max_norm)", None)


def _reduction(size_average, reduce, reduction, name, allowed=REDUCTIONS):
    """The reduction, from PyTorch's legacy size_average/reduce where they are given."""
    if size_average is not None or reduce is not None:
        warnings.warn(
            f"{name}: size_average and reduce are deprecated; use reduction=", stacklevel=3
        )
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else ("mean" if size_average else "sum")
    if reduction not in allowed:
        raise ValueError(f"{name}: reduction must be one of {allowed}, got {reduction!r}")
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum(loss)
    return loss


def _class_coefficients(name, x_shape, target, weight, ignore_index, smoothing, dtype):
    """For class-index targets: the coefficient of each log-probability in the loss (weight of
    the target class, label smoothing spread over all classes, 0 for ignored samples) and the
    mean's denominator (the summed weights of the counted targets), as PyTorch's nll_loss and
    cross_entropy normalise."""
    class_dim = 0 if len(x_shape) == 1 else 1
    classes = x_shape[class_dim]
    expected = x_shape[:class_dim] + x_shape[class_dim + 1 :]
    labels = target._data
    if labels.shape != expected:
        raise ShapeError(
            f"{name}: target of shape {labels.shape} does not fit input of shape {x_shape} "
            f"(expected class indices of shape {expected})"
        )
    low = np.minimum.reduce(labels, axis=None) if labels.size else 0
    high = np.maximum.reduce(labels, axis=None) if labels.size else 0
    if 0 <= low and high < classes and not low <= ignore_index <= high:
        if weight is None and not smoothing and len(x_shape) == 2:
            # the common case, a batch of (N, C) logits, every target counted: a 1 per row
            q = np.zeros(x_shape, dtype)
            q[np.arange(x_shape[0]), labels] = 1
            return q, x_shape[0], class_dim
        ignored = np.zeros(labels.shape, dtype=bool)
    else:
        ignored = labels == ignore_index
        bad = ~ignored & ((labels < 0) | (labels >= classes))
        if bad.any():
            raise IndexError(
                f"{name}: target {labels[bad].flat[0]} is out of bounds for {classes} classes "
                f"(expected class indices in [0, {classes - 1}], or ignore_index={ignore_index})"
            )
    counted = ~ignored
    safe = np.where(ignored, 0, labels)
    w = np.ones(classes, dtype) if weight is None else weight._data.astype(dtype, copy=False)
    picked = w[safe] * counted
    q = np.zeros(x_shape, dtype)
    np.put_along_axis(
        q,
        np.expand_dims(safe, class_dim),
        np.expand_dims(picked * (1.0 - smoothing), class_dim),
        axis=class_dim,
    )
    if smoothing:
        view = (classes,) + (1,) * (len(x_shape) - class_dim - 1)
        q += (smoothing / classes) * w.reshape(view) * np.expand_dims(counted, class_dim)
    return q, picked.sum(dtype=np.float64), class_dim


def _constant(name, argument, value):
    """PyTorch refuses gradients for class weights, pos_weight and running statistics."""
    if value is not None and type(value) is Tensor and value._requires_grad:
        raise RuntimeError(
            f"{name}: not differentiable with respect to {argument}, which requires grad; pass "
            f"{argument}.detach(), as PyTorch requires"
        )


def _check_weight(name, weight, classes):
    if weight is None:
        return None
    weight = as_tensor(weight)
    _constant(name, "weight", weight)
    if weight._data.shape != (classes,):
        raise ShapeError(
            f"{name}: weight of shape {weight.shape} must hold one value per class ({classes},)"
        )
    return weight


def cross_entropy(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index=-100,
    reduce=None,
    reduction="mean",
    label_smoothing=0.0,
):
    """Log-softmax and negative log-likelihood in one fused op, stable for any finite logits.

    `target` holds class indices (integers; `input` (N, C, ...) or (C,)) or class
    probabilities (floats, `input`'s shape). Out-of-range classes are an IndexError naming the
    value, never a wrap-around.

    >>> F.cross_entropy(pg.zeros(2, 4), pg.tensor([0, 3]))
    tensor(1.3863)
    """
    reduction = _reduction(size_average, reduce, reduction, "cross_entropy")
    x, t = as_tensor(input), as_tensor(target)
    if x._data.ndim == 0:
        raise ShapeError("cross_entropy: input must have a class dim, got a 0-d tensor")
    if x._data.dtype.kind != "f":
        raise TypeError(f"cross_entropy: input must be floating point, got {x._data.dtype}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    class_dim = 0 if x._data.ndim == 1 else 1
    classes = x._data.shape[class_dim]
    w = _check_weight("cross_entropy", weight, classes)
    if t._data.dtype.kind in "iu":
        q, denominator, class_dim = _class_coefficients(
            "cross_entropy", x._data.shape, t, w, ignore_index, label_smoothing, x._data.dtype
        )
        q = from_array(q)
    elif t._data.dtype.kind == "f":
        if t._data.shape != x._data.shape:
            raise ShapeError(
                f"cross_entropy: probability target of shape {t.shape} must have the input's "
                f"shape {x.shape} (class indices must be integers)"
            )
        q = t * (1.0 - label_smoothing) + label_smoothing / classes if label_smoothing else t
        if w is not None:
            q = q * reshape(w, (classes,) + (1,) * (x._data.ndim - class_dim - 1))
        denominator = x._data.size // classes if classes else 0
    else:
        raise TypeError(
            f"cross_entropy: target must be class indices (integers) or probabilities (floats), "
            f"got dtype {t._data.dtype}"
        )
    return fused.cross_entropy_loss(x, q, class_dim, denominator, reduction)


def nll_loss(
    input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"
):
    """-input[target] (log-probabilities picked by class index), weighted, as PyTorch's."""
    reduction = _reduction(size_average, reduce, reduction, "nll_loss")
    x, t = as_tensor(input), as_tensor(target)
    if x._data.ndim == 0:
        raise ShapeError("nll_loss: input must have a class dim, got a 0-d tensor")
    if t._data.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must be class indices (integers), got {t._data.dtype}")
    classes = x._data.shape[0 if x._data.ndim == 1 else 1]
    w = _check_weight("nll_loss", weight, classes)
    q, denominator, class_dim = _class_coefficients(
        "nll_loss", x._data.shape, t, w, ignore_index, 0.0, x._data.dtype
    )
    per_sample = -sum(x * from_array(q), class_dim)
    if reduction == "none":
        return per_sample
    total = sum(per_sample)
    if reduction == "sum":
        return total
    # the summed weights (float64) divide in the loss's dtype, as a Python number would: an
    # array, so that a compiled step computes it from the batch's targets rather than reading it
    return total / from_array(np.asarray(denominator, dtype=total._data.dtype))


def _pair(name, input, target):
    x, t = as_tensor(input), as_tensor(target)
    if x._data.shape != t._data.shape:
        warnings.warn(
            f"{name}: target size {t.shape} differs from input size {x.shape}; they will be "
            "broadcast, which is likely not what you want",
            stacklevel=3,
        )
    return x, t


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """(input - target)^2, reduced."""
    reduction = _reduction(size_average, reduce, reduction, "mse_loss")
    x, t = _pair("mse_loss", input, target)
    difference = x - t
    loss = difference * difference
    return _reduce(loss if weight is None else loss * weight, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """|input - target|, reduced."""
    reduction = _reduction(size_average, reduce, reduction, "l1_loss")
    x, t = _pair("l1_loss", input, target)
    return _reduce(abs(x - t), reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target)."""
    reduction = _reduction(size_average, reduce, reduction, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    x, t = _pair("smooth_l1_loss", input, target)
    d = abs(x - t)
    if beta == 0:
        return _reduce(d, reduction)
    return _reduce(where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta) (d = input - target)."""
    reduction = _reduction(None, None, reduction, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    x, t = _pair("huber_loss", input, target)
    d = abs(x - t)
    loss = where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))
    return _reduce(loss if weight is None else loss * weight, reduction)


def binary_cross_entropy(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean"
):
    """-(t log p + (1 - t) log(1 - p)), each log at least -100, as PyTorch's."""
    reduction = _reduction(size_average, reduce, reduction, "binary_cross_entropy")
    p, t = as_tensor(input), as_tensor(target)
    if p._data.shape != t._data.shape:
        raise ShapeError(
            f"binary_cross_entropy: target of shape {t.shape} must have the input's shape {p.shape}"
        )
    if p._data.size and (np.nanmin(p._data) < 0 or np.nanmax(p._data) > 1):
        raise ValueError("binary_cross_entropy: input values must be probabilities in [0, 1]")
    loss = -(t * clamp(log(p), min=-100) + (1 - t) * clamp(log(1 - p), min=-100))
    return _reduce(loss if weight is None else loss * weight, reduction)


def binary_cross_entropy_with_logits(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None
):
    """binary_cross_entropy(sigmoid(input), target) computed stably from the logits:
    (1 - t) x + (1 + (pos_weight - 1) t) log(1 + e^-x), the last term by logaddexp."""
    reduction = _reduction(size_average, reduce, reduction, "binary_cross_entropy_with_logits")
    x, t = as_tensor(input), as_tensor(target)
    if x._data.shape != t._data.shape:
        raise ShapeError(
            f"binary_cross_entropy_with_logits: target of shape {t.shape} must have the input's "
            f"shape {x.shape}"
        )
    _constant("binary_cross_entropy_with_logits", "pos_weight", pos_weight)
    # log(1 + e^-x) as one smooth op: a sum of kinked pieces (|x|, max(-x, 0)) is right in
    # value but takes the wrong slope at x = 0, where zero-initialised logits sit
    log_one_plus = logaddexp(-x, 0.0)
    if pos_weight is None:
        loss = (1 - t) * x + log_one_plus
    else:
        loss = (1 - t) * x + (1 + (pos_weight - 1) * t) * log_one_plus
    return _reduce(loss if weight is None else loss * weight, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """target (log target - input), with input log-probabilities; 0 where target is 0.
    reduction="batchmean" divides the sum by the batch size (the true KL divergence)."""
    reduction = _reduction(size_average, reduce, reduction, "kl_div", REDUCTIONS + ("batchmean",))
    x, t = as_tensor(input), as_tensor(target)
    loss = exp(t) * (t - x) if log_target else xlogy(t, t) - t * x
    if reduction == "batchmean":
        return sum(loss) / (x._data.shape[0] if x._data.ndim else 1)
    return _reduce(loss, reduction)


def _softmax_dim(name, ndim):
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
        "dim=X as an argument.",
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    x = as_tensor(input)
    dim = _softmax_dim("softmax", x._data.ndim) if dim is None else dim
    return _softmax(x, dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    x = as_tensor(input)
    dim = _softmax_dim("log_softmax", x._data.ndim) if dim is None else dim
    return _log_softmax(x, dim, dtype=dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    return softmax(-as_tensor(input), dim, dtype=dtype)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    x = as_tensor(input)
    return where(x > 0, x, x * negative_slope)


def elu(input, alpha=1.0, inplace=False):
    x = as_tensor(input)
    return where(x > 0, x, alpha * (exp(clamp(x, max=0)) - 1))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    return clamp(input, min_val, max_val)


def relu6(input, inplace=False):
    return clamp(input, 0.0, 6.0)


def logsigmoid(input):
    """log(sigmoid(x)) = -log(1 + e^-x), by logaddexp: stable, and smooth at 0 (a sum of the
    kinked pieces |x| and max(-x, 0) takes slope 1 there instead of 1/2)."""
    return -logaddexp(-as_tensor(input), 0.0)


def dropout(input, p=0.5, training=True, inplace=False, *, generator=None):
    """Zero each element with probability p and scale the rest by 1 / (1 - p), in training;
    the identity otherwise. `generator=` (pathgrad's addition) makes the mask repeatable."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    x = as_tensor(input)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    keep = random.rng(generator, "dropout").random(x._data.shape) >= p
    return x * (keep.astype(x._data.dtype) / np.asarray(1.0 - p, x._data.dtype))


def _normalized_dims(name, x, normalized_shape):
    if isinstance(normalized_shape, (int, np.integer)):
        normalized_shape = (int(normalized_shape),)
    normalized_shape = tuple(normalized_shape)
    if x._data.shape[x._data.ndim - len(normalized_shape) :] != normalized_shape or (
        len(normalized_shape) > x._data.ndim
    ):
        raise ShapeError(
            f"{name}: input of shape {x.shape} does not end in normalized_shape {normalized_shape}"
        )
    return normalized_shape


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """(x - mean) / sqrt(var + eps) * weight + bias over the last dims (`normalized_shape`)."""
    x = as_tensor(input)
    shape = _normalized_dims("layer_norm", x, normalized_shape)
    for name, parameter in (("weight", weight), ("bias", bias)):
        if parameter is not None and tuple(parameter.shape) != shape:
            raise ShapeError(
                f"layer_norm: {name} of shape {tuple(parameter.shape)} must have "
                f"normalized_shape {shape}"
            )
    return fused.layer_norm(
        x, 1.0 if weight is None else weight, 0.0 if bias is None else bias, len(shape), eps
    )


def batch_norm(
    input,
    running_mean,
    running_var,
    weight=None,
    bias=None,
    training=False,
    momentum=0.1,
    eps=1e-5,
):
    """Normalise each channel (dim 1) by the batch's statistics in training, which also move
    the running estimates (the variance unbiased, as PyTorch's); by the running ones in eval."""
    x = as_tensor(input)
    if x._data.ndim < 2:
        raise ShapeError(f"batch_norm: expects input of shape (N, C) or (N, C, L), got {x.shape}")
    channels = x._data.shape[1]
    for name, t in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if t is not None and t.shape != (channels,):
            raise ShapeError(
                f"batch_norm: {name} of shape {tuple(t.shape)} must have one value per channel "
                f"({channels},) for input of shape {x.shape}"
            )
    _constant("batch_norm", "running_mean", running_mean)
    _constant("batch_norm", "running_var", running_var)
    w = 1.0 if weight is None else weight
    b = 0.0 if bias is None else bias
    if training:
        count = x._data.size // channels
        if count <= 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, got input "
                f"of shape {x.shape}"
            )
        stats = []
        out = fused.batch_norm_train(x, w, b, eps, stats)
        if running_mean is not None:
            batch_mean = stats[0].reshape(channels).astype(running_mean._data.dtype)
            _move_toward(running_mean, batch_mean, momentum)
        if running_var is not None:
            batch_var = stats[1].reshape(channels) * (count / (count - 1))  # unbiased, as PyTorch
            _move_toward(
                running_var, batch_var.astype(running_var._data.dtype, copy=False), momentum
            )
        return out
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: running_mean and running_var are needed when not training")
    view = (channels,) + (1,) * (x._data.ndim - 2)
    scale = reshape(as_tensor(running_var) + eps, view) ** -0.5
    shifted = x - reshape(as_tensor(running_mean), view)
    out = shifted * scale
    if weight is not None:
        out = out * reshape(weight, view)
    if bias is not None:
        out = out + reshape(bias, view)
    return out


def _move_toward(running, batch_value, momentum):
    """running = (1 - momentum) running + momentum batch_value, in place and unrecorded (as
    PyTorch's buffers move); the change is counted, so a graph that saved them notices."""
    data = running._data
    data *= as_weak(1.0 - momentum, data.dtype)
    batch_value *= as_weak(momentum, batch_value.dtype)  # a temporary of batch_norm's own
    data += batch_value
    versions.record_change(
        running._base if running._base is not None else running,
        "batch_norm(running statistics)",
        None,
    )


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p over dim, eps)."""
    x = as_tensor(input)
    return x / clamp(norm(x, p, dim, keepdim=True), min=eps)


def pad(input, pad, mode="constant", value=None):
    """Pad the last dims: `pad` = (left, right, top, bottom, ...), last dim first. Modes:
    constant (negative amounts crop), reflect, replicate, circular."""
    x = as_tensor(input)
    if mode == "constant":
        return constant_pad(x, tuple(pad), 0.0 if value is None else value)
    numpy_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}.get(mode)
    if numpy_mode is None:
        raise ValueError(
            f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}"
        )
    amounts = [operator.index(a) for a in pad]
    if len(amounts) % 2 or len(amounts) // 2 >= x._data.ndim:
        raise ValueError(
            f"pad: {mode} padding of {tuple(pad)} needs at most {x._data.ndim - 1} (left, right) "
            f"pairs for an input of shape {x.shape}"
        )
    for i in range(len(amounts) // 2):
        axis = x._data.ndim - 1 - i
        before, after = amounts[2 * i], amounts[2 * i + 1]
        size = x._data.shape[axis]
        if mode == "reflect" and max(before, after) >= size:
            raise ValueError(
                f"pad: reflect padding ({before}, {after}) must be less than dim {axis}'s size "
                f"{size}"
            )
        positions = np.pad(np.arange(size), (before, after), mode=numpy_mode)
        x = index_select(x, axis, from_array(positions))
    return x


def _single(value, name):
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"conv1d: {name} must be an int or a 1-tuple, got {value!r}")
        value = value[0]
    return operator.index(value)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """The cross-correlation of input (N, C_in, L) or (C_in, L) with weight (C_out, C_in /
    groups, K), as PyTorch's conv1d; windows are a strided view (unfold), the product an einsum.
    """
    x, w = as_tensor(input), as_tensor(weight)
    unbatched = x._data.ndim == 2
    if unbatched:
        x = unsqueeze(x, 0)
    stride, dilation = _single(stride, "stride"), _single(dilation, "dilation")
    if x._data.ndim != 3 or w._data.ndim != 3:
        raise ShapeError(
            f"conv1d: expects input (N, C_in, L) or (C_in, L) and weight (C_out, C_in/groups, "
            f"K), got {tuple(as_tensor(input).shape)} and {w.shape}"
        )
    out_channels, group_channels, kernel = w._data.shape
    channels = x._data.shape[1]
    if channels % groups or out_channels % groups or group_channels * groups != channels:
        raise ShapeError(
            f"conv1d: weight of shape {w.shape} with groups={groups} expects "
            f"{group_channels * groups} "
            f"input channels, got input of shape {x.shape}"
        )
    span = dilation * (kernel - 1) + 1
    if padding == "same":
        if stride != 1:
            raise ValueError("conv1d: padding='same' is not supported for strided convolutions")
        left = (span - 1) // 2
        x = constant_pad(x, (left, span - 1 - left))
    elif padding == "valid":
        pass
    else:
        amount = _single(padding, "padding")
        if amount:
            x = constant_pad(x, (amount, amount))
    if x._data.shape[2] < span:
        raise ShapeError(
            f"conv1d: input of length {x._data.shape[2]} (padded) is shorter than the kernel's "
            f"span {span}"
        )
    windows = x.unfold(2, span, stride)  # (N, C_in, L_out, span)
    if dilation > 1:
        windows = windows[..., ::dilation]
    if groups == 1:
        out = einsum("nclk,ock->nol", windows, w)
    else:
        n, _, length, _ = windows._data.shape
        grouped = reshape(windows, (n, groups, channels // groups, length, kernel))
        weights = reshape(w, (groups, out_channels // groups, group_channels, kernel))
        out = reshape(einsum("ngclk,gock->ngol", grouped, weights), (n, out_channels, length))
    if bias is not None:
        out = out + unsqueeze(as_tensor(bias), -1)
    return out[0] if unbatched else out


def scaled_dot_product_attention(
    query,
    key,
    value,
    attn_mask=None,
    dropout_p=0.0,
    is_causal=False,
    scale=None,
    enable_gqa=False,
    *,
    generator=None,
):
    """softmax(q k^T * scale + mask) v over the last two dims, as PyTorch's; `is_causal` lets
    each position see itself and earlier ones; a boolean `attn_mask` marks where attention is
    allowed, a float one is added."""
    q, k, v = as_tensor(query), as_tensor(key), as_tensor(value)
    if is_causal and attn_mask is not None:
        raise RuntimeError("scaled_dot_product_attention: give attn_mask or is_causal, not both")
    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention: enable_gqa is not supported")
    length, source = q._data.shape[-2], k._data.shape[-2]
    factor = 1.0 / math.sqrt(q._data.shape[-1]) if scale is None else scale
    scores = matmul(q, transpose(k, -2, -1)) * factor
    if is_causal:
        allowed = np.tril(np.ones((length, source), dtype=bool))
        scores = where(allowed, scores, -math.inf)
    elif attn_mask is not None:
        mask = as_tensor(attn_mask)
        if mask._data.dtype == np.bool_:
            scores = where(mask._data, scores, -math.inf)
        else:
            scores = scores + mask
    weights = _softmax(scores, -1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, generator=generator)
    return matmul(weights, v)

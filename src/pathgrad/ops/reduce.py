"""Reductions. A reduction's rule spreads the gradient back with `broadcast_to`, the inverse of
the one reducer, so reductions and broadcasting share one pair of ops."""

from __future__ import annotations

import builtins
import math
import operator
from collections import namedtuple
from typing import Any

import numpy as np

from pathgrad.errors import op_context
from pathgrad.ops.broadcast import broadcast_to, to
from pathgrad.ops.elementwise import abs as absolute
from pathgrad.ops.elementwise import clone, exp, log, maximum, minimum, where
from pathgrad.ops.index import (
    _gather_positions,
    _Normalized,
    _scatter_index,
    _scatter_source,
    gather,
    getitem,
    index_put_zeros,
    scatter_add_zeros,
    spread_index,
)
from pathgrad.ops.registry import as_tensor, normalize_dims, numpy_names, op
from pathgrad.ops.shape import cat, flip, movedim, narrow, reshape, squeeze, unsqueeze
from pathgrad.ops.shape import diagonal as diagonal_of

max_result = namedtuple("max", ["values", "indices"])
min_result = namedtuple("min", ["values", "indices"])
sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])


def kept_shape(shape: tuple[int, ...], dims: tuple[int, ...]) -> tuple[int, ...]:
    """`shape` with the reduced `dims` kept as size 1."""
    return tuple(1 if axis in dims else size for axis, size in enumerate(shape))


def unreduce(grad, shape: tuple[int, ...], dims: tuple[int, ...], keepdim: bool):
    """A reduced gradient spread back over the reduced dims: every element fed the reduction."""
    if not keepdim:
        grad = reshape(grad, kept_shape(shape, dims))
    return broadcast_to(grad, shape)


@op("sum", casts=True, rule="dL/dx = broadcast_to(dL/dout, x.shape)")
def sum(x, dim=None, keepdim=False):
    """Sum over `dim` (int, tuple or None for all), keeping reduced dims as size 1 with
    `keepdim`; the gradient is spread back by broadcast_to.

    >>> pg.tensor([[1.0, 2.0], [3.0, 4.0]]).sum(0)
    tensor([4., 6.])
    """
    shape = x._data.shape
    dims = normalize_dims(dim, len(shape), "sum")
    data = x._data
    if data.dtype == np.float16:  # accumulated in float32, as PyTorch: no overflow midway
        out = np.add.reduce(data, axis=dims, keepdims=keepdim, dtype=np.float32).astype(data.dtype)
    else:
        out = np.add.reduce(data, axis=dims, keepdims=keepdim)  # .sum(), less a wrapper

    def vjp(grad):
        return unreduce(grad, shape, dims, keepdim)

    return out, vjp


def _accumulator(data: np.ndarray) -> Any:
    """The dtype a reduction accumulates in: float32 for float16 data, as PyTorch."""
    return np.float32 if data.dtype == np.float16 else None


@numpy_names
def mean(x, dim=None, keepdim=False, *, dtype=None):
    """sum / count, composed; a float16 mean is taken in float32 and rounded once, as
    PyTorch's (mean([6e4, 6e4]) is 6e4, not the overflowed sum over 2)."""
    x = as_tensor(x)
    dims = normalize_dims(dim, x.ndim, "mean")
    count = math.prod([x.shape[d] for d in dims]) if dims else 1
    if dtype is None and x._data.dtype == np.float16:
        return to(sum(x, dims, keepdim, dtype=np.float32) / count, np.float16)
    return sum(x, dims, keepdim, dtype=dtype) / count


def _spread_arguments(op_name: str, dim, unbiased, correction) -> tuple:
    """PyTorch's two forms: (dim, *, correction=1) and the older (dim, unbiased=True, keepdim),
    where a bool alone in dim's place is `unbiased`. Returns (dim, correction)."""
    if type(dim) is bool:
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise ValueError(f"{op_context(op_name)}: give unbiased or correction, not both")
    if unbiased is not None:
        return dim, 1 if unbiased else 0
    return dim, 1 if correction is None else correction


@op("var", rule="dL/dx = dL/dout * 2 * (x - mean(x)) / (n - correction)")
def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance with Bessel's correction by default, as PyTorch; two passes, so a large offset
    (1e8 + small noise) loses no accuracy. A primitive for speed (one node where the composite
    made six) and for PyTorch's gradient, 2 (x - mean) / (n - correction), whose terms stay
    apart: the composite's path through the mean spread one infinite element's NaN over all."""
    dim, correction = _spread_arguments("var", dim, unbiased, correction)
    data = x._data
    dims = normalize_dims(dim, data.ndim, "var")
    count = math.prod([data.shape[d] for d in dims]) if dims else 1
    out = np.var(data, axis=dims, ddof=correction, keepdims=keepdim, dtype=_accumulator(data))
    out = out.astype(data.dtype, copy=False)
    dof = count - correction
    scale = 2.0 / dof if dof > 0 else float("inf")  # no spread to divide by: NaN, as PyTorch

    def vjp(grad, x=x):
        # d var / dx = 2 (x - mean) / (n - correction)
        spread_grad = unreduce(grad, data.shape, dims, keepdim)
        return spread_grad * ((x - mean(x, dims, keepdim=True)) * scale)

    return out, vjp


@op(
    "std",
    saves_out=True,
    rule="dL/dx = dL/dout * (x - mean(x)) / ((n - correction) * out)",
)
def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """sqrt(var). A primitive so that zero spread has a zero gradient, as PyTorch, where the
    composite sqrt(var) gives 0 * inf = NaN."""
    dim, correction = _spread_arguments("std", dim, unbiased, correction)
    data = x._data
    dims = normalize_dims(dim, data.ndim, "std")
    count = math.prod([data.shape[d] for d in dims]) if dims else 1
    out = np.std(data, axis=dims, ddof=correction, keepdims=keepdim, dtype=_accumulator(data))
    out = out.astype(data.dtype, copy=False)

    def vjp(grad, out, x=x):
        # d std / dx = (x - mean) / ((n - correction) std), taken as 0 where std is 0
        shape = data.shape
        spread = unreduce(out, shape, dims, keepdim)
        zero = spread._data == 0
        safe = where(zero, 1.0, spread)
        centered = x - mean(x, dims, keepdim=True)
        scaled = where(zero, 0.0, unreduce(grad, shape, dims, keepdim))
        return centered * scaled / (safe * builtins.max(count - correction, 0))

    return out, vjp


@op("amax", rule="dL/dx = dL/dout * [x == out] / count(x == out)")
def amax(x, dim=None, keepdim=False):
    """Largest value over `dim`; tied maxima share the gradient equally, as PyTorch."""
    return _extreme(x, dim, keepdim, np.max, "amax")


@op("amin", rule="dL/dx = dL/dout * [x == out] / count(x == out)")
def amin(x, dim=None, keepdim=False):
    """Smallest value over `dim`; tied minima share the gradient equally, as PyTorch."""
    return _extreme(x, dim, keepdim, np.min, "amin")


@op("max", rule="dL/dx = dL/dout * [x == out] / count(x == out)")
def max_of_all(x):
    """max(x) with no dim: tied maxima share the gradient equally and, where the largest is
    NaN, the NaNs share it, as PyTorch's max() (its amax gives NaN gradients there)."""
    return _extreme(x, None, False, np.max, "max", nans_share=True)


@op("min", rule="dL/dx = dL/dout * [x == out] / count(x == out)")
def min_of_all(x):
    """min(x) with no dim: as `max_of_all`."""
    return _extreme(x, None, False, np.min, "min", nans_share=True)


def _extreme(x, dim, keepdim, reducer, name, nans_share=False):
    data = x._data
    dims = normalize_dims(dim, data.ndim, name)
    _refuse_empty(data.shape, dims, name, index_error=dim is not None)
    kept = reducer(data, axis=dims, keepdims=True)
    hit = data == kept
    if nans_share:
        hit |= np.isnan(data) & np.isnan(kept)
    share = (hit / hit.sum(axis=dims, keepdims=True)).astype(data.dtype)
    shape = data.shape

    def vjp(grad):
        return unreduce(grad, shape, dims, keepdim) * share

    return (kept if keepdim else _squeeze(kept, dims)), vjp


def _squeeze(array, dims):
    return array.reshape([s for axis, s in enumerate(array.shape) if axis not in dims])


@op("argmax", differentiable=False)
def argmax(x, dim=None, keepdim=False):
    """Index of the first largest value; over the flattened tensor when `dim` is None."""
    return _arg_extreme(x, dim, keepdim, np.argmax, "argmax")


@op("argmin", differentiable=False)
def argmin(x, dim=None, keepdim=False):
    """Index of the first smallest value; over the flattened tensor when `dim` is None."""
    return _arg_extreme(x, dim, keepdim, np.argmin, "argmin")


def _arg_extreme(x, dim, keepdim, finder, name):
    data = x._data
    if dim is not None:
        dim = single_dim(dim, name)
    if dim is None:
        _refuse_empty(data.shape, tuple(range(data.ndim)), name, index_error=True)
        out = np.asarray(finder(data))
        return (out.reshape((1,) * data.ndim) if keepdim else out).astype(np.int64), None
    dims = normalize_dims(dim, data.ndim, name)
    if not dims:  # a 0-d tensor: its one element, as PyTorch
        return np.zeros((), dtype=np.int64), None
    _refuse_empty(data.shape, dims, name, index_error=True)
    return finder(data, axis=dims[0], keepdims=keepdim).astype(np.int64), None


def _refuse_empty(shape, dims, name, index_error=True):
    """The largest or smallest of no elements is an error (other dims may have size 0): an
    IndexError where a dim was named (and for argmax/argmin), as PyTorch, else a ValueError."""
    for d in dims:
        if shape[d] == 0:
            error = IndexError if index_error else ValueError
            raise error(
                f"{op_context(name)}: dim {d} of the tensor of shape {shape} is empty (size 0), "
                "so there is no element to pick; reduce over a dim of nonzero size"
            )


@numpy_names
def max(x, *args, **kwargs):
    """max(x): the largest value (ties share the gradient); max(x, dim): (values, indices), the
    gradient going to the index returned; max(x, other): the elementwise maximum. As PyTorch,
    a tensor given by position is `other`, and `dim` is one int (amax takes several)."""
    return _extreme_call(x, args, kwargs, "max", max_of_all, maximum, argmax, max_result)


@numpy_names
def min(x, *args, **kwargs):
    """min(x), min(x, dim) -> (values, indices), or min(x, other), as `max`."""
    return _extreme_call(x, args, kwargs, "min", min_of_all, minimum, argmin, min_result)


def _extreme_call(x, args, kwargs, name, of_all, elementwise, finder, result):
    """PyTorch's three forms of max and min, told apart as its argument parser tells them."""
    unknown = sorted(set(kwargs) - {"dim", "keepdim", "other"})
    if unknown or len(args) > 2:
        extra = f"keyword {unknown[0]!r}" if unknown else f"{len(args)} positional arguments"
        raise TypeError(f"{name}() got an unexpected {extra}")
    if "other" in kwargs or (args and _is_array_like(args[0])):
        if len(args) > 1 or "dim" in kwargs or "keepdim" in kwargs:
            raise TypeError(f"{name}(input, other) takes no dim or keepdim")
        return elementwise(x, kwargs["other"] if "other" in kwargs else args[0])
    if args and "dim" in kwargs:
        raise TypeError(f"{name}() got multiple values for argument 'dim'")
    dim = args[0] if args else kwargs.get("dim")
    keepdim = args[1] if len(args) > 1 else kwargs.get("keepdim", False)
    if dim is None:
        if keepdim:
            raise TypeError(
                f"{name}: keepdim=True needs a dim; for every dim at once use "
                f"a{name}(x, dim=None, keepdim=True)"
            )
        return of_all(x)
    return _reduce_with_indices(x, single_dim(dim, name), keepdim, finder, result, name)


def _is_array_like(value) -> bool:
    """A tensor or an ndarray: by position, max's and min's `other` (as PyTorch's parser)."""
    return hasattr(value, "shape") and hasattr(value, "dtype")


def single_dim(dim, name: str) -> int:
    """`dim` as the one int PyTorch's reductions with indices take: a Python or NumPy integer
    or a 0-d integer tensor; a bool, a float, a list or a tuple is a TypeError naming it."""
    if isinstance(dim, bool) or isinstance(dim, (tuple, list)):
        several = " (amax and amin take several dims)" if isinstance(dim, (tuple, list)) else ""
        raise TypeError(f"{op_context(name)}: dim must be an int, not {dim!r}{several}")
    try:
        return operator.index(dim)
    except TypeError:
        raise TypeError(f"{op_context(name)}: dim must be an int, not {dim!r}") from None


def _reduce_with_indices(x, dim, keepdim, finder, result, name):
    x = as_tensor(x)
    normalize_dims(dim, x.ndim, name)  # a bad dim is reported as max's or min's own
    indices = finder(x, dim, keepdim=True)
    if x.ndim == 0:  # dim 0 or -1 of a 0-d tensor: its one element, as PyTorch
        return result(clone(x), indices)
    values = gather(x, dim, indices)
    if not keepdim:
        values, indices = squeeze(values, dim), squeeze(indices, dim)
    return result(values, indices)


@op(
    "prod",
    saves_out=True,
    casts=True,
    rule="dL/dx = dL/dout * out / x (the product of the others where x is 0)",
)
def prod(x, dim=None, keepdim=False):
    """Product over `dim`. Zeros are handled exactly to the second derivative: an element's
    gradient is the product of the others, as PyTorch, and Hessians are right with any number
    of zeros (third derivatives with three or more zeros in one product are not recovered)."""
    data = x._data
    dims = normalize_dims(dim, data.ndim, "prod")
    out = data.prod(axis=dims, keepdims=keepdim)

    def vjp(grad, out, x=x):
        shape = data.shape
        spread_grad = unreduce(grad, shape, dims, keepdim)
        spread_out = unreduce(out, shape, dims, keepdim)
        zero = data == 0
        if not zero.any():
            return spread_grad * spread_out / x
        # at a zero the product of the others is (product of the nonzero elements) x (product
        # of the other zeros): 1 with one zero; with two, the other zero itself, written as
        # (sum of the zeros) - x so that it is 0 with the derivative 1 towards the other;
        # with three or more, 0 to second order
        safe = where(zero, 1.0, x)
        zeros = zero.sum(axis=dims, keepdims=True)
        nonzero_product = broadcast_to(prod(safe, dims, keepdim=True), shape)
        other_zero = broadcast_to(sum(where(zero, x, 0.0), dims, keepdim=True), shape) - x
        other_zeros = where(zeros == 1, 1.0, where(zeros == 2, other_zero, 0.0))
        return spread_grad * where(zero, nonzero_product * other_zeros, spread_out / safe)

    return out, vjp


@op("logsumexp", saves_out=True, rule="dL/dx = dL/dout * exp(x - out)")
def logsumexp(x, dim, keepdim=False):
    """log(sum(exp(x))) with the max taken out first, so it is finite for inputs up to +-1e4."""
    data = x._data
    dims = normalize_dims(dim, data.ndim, "logsumexp")
    shift = _finite_max(data, dims)
    out = np.log(np.exp(data - shift).sum(axis=dims, keepdims=True)) + shift
    if not keepdim:
        out = _squeeze(out, dims)

    def vjp(grad, out, x=x):
        # d logsumexp / dx = softmax(x)
        shape = data.shape
        return (
            unreduce(grad, shape, dims, keepdim) * (x - unreduce(out, shape, dims, keepdim)).exp()
        )

    return out, vjp


@op("cumsum", casts=True, rule="dL/dx = dL/dout.flip(dim).cumsum(dim).flip(dim)")
def cumsum(x, dim):
    """Running sums along `dim`: input i reaches every output from i on, so its gradient is
    the incoming gradient summed from the end back to i."""
    data = x._data
    if data.ndim == 0:  # PyTorch allows dim 0 of a 0-d tensor: the value itself
        normalize_dims(dim, 0, "cumsum")
        return data.copy(), lambda grad: grad
    (axis,) = normalize_dims(dim, data.ndim, "cumsum")

    def vjp(grad):
        return flip(cumsum(flip(grad, (axis,)), axis), (axis,))

    return np.cumsum(data, axis=axis), vjp


def _max_of(data, dims):
    """The shift that keeps softmax's exp from overflowing: the max, infinite or not, so an
    infinite input gives NaN as in PyTorch (logsumexp alone takes infinities out)."""
    return data.max(axis=dims, keepdims=True) if data.size else np.zeros((), data.dtype)


def _finite_max(data, dims):
    shift = data.max(axis=dims, keepdims=True) if data.size else np.zeros((), data.dtype)
    return np.where(np.isfinite(shift), shift, 0)


@op("softmax", saves_out=True, casts=True, rule="dL/dx = out * (dL/dout - sum(dL/dout * out, dim))")
def softmax(x, dim):
    """exp(x) / sum(exp(x)) over `dim`, shifted by the max so it never overflows."""
    data = x._data
    dims = normalize_dims(dim, data.ndim, "softmax")
    e = np.exp(data - _max_of(data, dims))
    out = e / e.sum(axis=dims, keepdims=True)

    def vjp(grad, out):
        return softmax_backward(grad, out, dims)

    return out, vjp


@op(
    "softmax_backward",
    inputs=2,
    rule=(
        "r = out * (grad - sum(grad * out)); dL/dgrad = out * (dL/dr - sum(dL/dr * out)); "
        "dL/dout = dL/dr * (grad - sum(grad * out)) - grad * sum(dL/dr * out)"
    ),
)
def softmax_backward(grad, out, dims):
    """out * (grad - sum(grad * out)): softmax's rule, one primitive for speed (four dispatches
    as a composite), as log_softmax_backward is log_softmax's."""
    g, y = grad._data, out._data
    # r = y (g - S(g y)), y = out, S = sum over dims: dr/dg = y (grad2 - S(grad2 y)), the rule
    # itself; dr/dy = grad2 (g - S(g y)) - g S(grad2 y)
    return y * (g - (g * y).sum(axis=dims, keepdims=True)), (
        lambda grad2, out=out: softmax_backward(grad2, out, dims),
        lambda grad2, grad=grad, out=out: (
            grad2 * (grad - sum(grad * out, dims, keepdim=True))
            - grad * sum(grad2 * out, dims, keepdim=True)
        ),
    )


@op(
    "log_softmax", saves_out=True, casts=True, rule="dL/dx = dL/dout - exp(out) * sum(dL/dout, dim)"
)
def log_softmax(x, dim):
    """x - logsumexp(x): a fused primitive, stable where log(softmax(x)) underflows to -inf."""
    data = x._data
    dims = normalize_dims(dim, data.ndim, "log_softmax")
    shifted = data - _max_of(data, dims)
    out = shifted - np.log(np.exp(shifted).sum(axis=dims, keepdims=True))

    def vjp(grad, out):
        return log_softmax_backward(grad, out, dims)

    return out, vjp


@op(
    "log_softmax_backward",
    inputs=2,
    rule=(
        "r = grad - exp(out) * sum(grad); dL/dgrad = dL/dr - sum(dL/dr * exp(out)); "
        "dL/dout = -dL/dr * exp(out) * sum(grad)"
    ),
)
def log_softmax_backward(grad, out, dims):
    """grad - exp(out) * sum(grad): log_softmax's rule, one primitive for speed (four
    dispatches as a composite, in every step of a classifier), as tanh_backward is tanh's."""
    g = grad._data
    # r = g - e S(g), e = exp(out), S = sum over dims: dr/dg = grad2 - S(grad2 e),
    # dr/dout = -grad2 e S(g)
    return g - np.exp(out._data) * g.sum(axis=dims, keepdims=True), (
        lambda grad2, out=out: grad2 - sum(grad2 * out.exp(), dims, keepdim=True),
        lambda grad2, grad=grad, out=out: -(grad2 * out.exp() * sum(grad, dims, keepdim=True)),
    )


@op("norm_2", saves_out=True, rule="dL/dx = dL/dout * x / out")
def norm_2(x, dim=None, keepdim=False):
    """The 2-norm; its gradient at the zero vector is 0, as PyTorch."""
    data = x._data
    dims = normalize_dims(dim, data.ndim, "norm")
    out = np.sqrt((data * data).sum(axis=dims, keepdims=keepdim))

    def vjp(grad, out, x=x):
        # d |x| / dx = x / |x|
        shape = data.shape
        spread = unreduce(out, shape, dims, keepdim)
        zero = spread._data == 0
        scaled = where(zero, 0.0, unreduce(grad, shape, dims, keepdim))
        return x * (scaled / where(zero, 1.0, spread))

    return out, vjp


@op("norm_p", saves_out=True, rule="dL/dx = dL/dout * x * |x|^(p - 2) / out^(p - 1)")
def norm_p(x, p, dim=None, keepdim=False):
    """(sum |x|^p)^(1/p) for p other than 1, 2 and inf. Its rule, x |x|^(p-2) / norm^(p-1), is
    taken as 0 where the norm is 0 and where x is 0, as PyTorch's (the composite's chain rule
    gave NaN there: 0 / 0, or 0 times the infinite |x|^(p-2) of p < 2)."""
    data = x._data
    dims = normalize_dims(dim, data.ndim, "norm")
    out = (np.abs(data) ** p).sum(axis=dims, keepdims=keepdim) ** (1.0 / p)

    def vjp(grad, out, x=x):
        shape = data.shape
        spread = unreduce(out, shape, dims, keepdim)
        skipped = (spread._data == 0) | (data == 0)
        safe_x = where(data == 0, 1.0, x)
        safe_norm = where(spread._data == 0, 1.0, spread)
        rule = unreduce(grad, shape, dims, keepdim) * safe_x * absolute(safe_x) ** (p - 2)
        return where(skipped, 0.0, rule / safe_norm ** (p - 1))

    return out.astype(data.dtype, copy=False), vjp


def norm(x, p="fro", dim=None, keepdim=False):
    """The p-norm over `dim` (all elements when None): p = 2 or 'fro', 1, inf, -inf or any
    other positive number."""
    x = as_tensor(x)
    if p in ("fro", 2, 2.0):
        return norm_2(x, dim, keepdim)
    magnitude = x.abs()
    if p == 1:
        return sum(magnitude, dim, keepdim)
    if p == float("inf"):
        return amax(magnitude, dim, keepdim)
    if p == float("-inf"):
        return amin(magnitude, dim, keepdim)
    if isinstance(p, (int, float)) and p > 0:
        return norm_p(x, p, dim, keepdim)
    raise ValueError(
        f"{op_context('norm')}: p must be 'fro', inf, -inf or a positive number, not {p!r}"
    )


@numpy_names
def argsort(x, dim=-1, descending=False, stable=False):
    """The positions that sort `x` along `dim` (an int64 tensor, not differentiable). Always a
    stable sort: ties keep their order, NaN sorts as the largest value, as PyTorch's stable=True
    (its default sort may order ties either way)."""
    x = as_tensor(x)
    data = x._data
    if data.ndim == 0:
        normalize_dims(dim, 0, "argsort")
        return as_tensor(np.zeros((), np.int64))
    (axis,) = normalize_dims(dim, data.ndim, "argsort")
    if not descending:
        order = np.argsort(data, axis=axis, kind="stable")
    else:
        # a stable ascending sort of the reversed data, reversed: largest first, NaN first,
        # ties in their original order
        flipped = np.argsort(np.flip(data, axis), axis=axis, kind="stable")
        order = data.shape[axis] - 1 - np.flip(flipped, axis)
    return as_tensor(order.astype(np.int64))


@numpy_names
def sort(x, dim=-1, descending=False, stable=False):
    """(values, indices) of `x` sorted along `dim` (see argsort); the values are gathered, so
    each element's gradient goes back to where it came from."""
    x = as_tensor(x)
    indices = argsort(x, dim, descending, stable)
    if x._data.ndim == 0:
        return sort_result(clone(x), indices)
    return sort_result(gather(x, dim, indices), indices)


@numpy_names
def topk(x, k, dim=-1, largest=True, sorted=True):
    """The k largest (or smallest) values along `dim` and their positions, largest first."""
    x = as_tensor(x)
    (axis,) = normalize_dims(dim, builtins.max(x._data.ndim, 1), "topk")
    size = x._data.shape[axis] if x._data.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError(
            f"{op_context('topk')}: k ({k}) is out of range for a dim of size {size}"
        )
    order = argsort(x, axis, descending=largest)._data
    indices = as_tensor(np.take(order, np.arange(k), axis=axis) if x._data.ndim else order)
    if x._data.ndim == 0:
        return topk_result(clone(x), indices)
    return topk_result(gather(x, axis, indices), indices)


# Reductions PyTorch offers by name, composed of the primitives above, and two scans.

aminmax_result = namedtuple("aminmax", ["min", "max"])
median_result = namedtuple("median", ["values", "indices"])
kthvalue_result = namedtuple("kthvalue", ["values", "indices"])
cummax_result = namedtuple("cummax", ["values", "indices"])
cummin_result = namedtuple("cummin", ["values", "indices"])


@op(
    "nansum",
    casts=True,
    rule="dL/dx = broadcast_to(dL/dout, x.shape) * [x is not NaN]",
)
def nansum(x, dim=None, keepdim=False):
    """sum with NaNs counted as 0. A primitive, not a sum of where(), for PyTorch's gradient: the
    upstream gradient times the not-NaN mask, so NaN where that gradient is infinite (nanmean
    of an all-NaN line, whose count is 0), where a where() would give 0."""
    shape = x._data.shape
    dims = normalize_dims(dim, len(shape), "nansum")
    data = x._data
    kept = ~np.isnan(data)
    clean = np.where(kept, data, 0).astype(data.dtype, copy=False)
    out = np.add.reduce(clean, axis=dims, keepdims=keepdim, dtype=_accumulator(data))
    out = out.astype(data.dtype, copy=False)

    def vjp(grad):
        return unreduce(grad, shape, dims, keepdim) * as_tensor(kept.astype(grad._data.dtype))

    return out, vjp


@numpy_names
def nanmean(x, dim=None, keepdim=False):
    """mean of the elements that are not NaN (NaN where all are)."""
    x = as_tensor(x)
    dims = normalize_dims(dim, x.ndim, "nanmean")
    counted = (~np.isnan(x._data)).sum(axis=dims, keepdims=keepdim)
    return nansum(x, dims, keepdim) / as_tensor(counted.astype(x._data.dtype))


@numpy_names
def aminmax(x, *, dim=None, keepdim=False):
    """(amin, amax) in one call, as PyTorch's aminmax."""
    return aminmax_result(amin(x, dim, keepdim), amax(x, dim, keepdim))


@numpy_names
def count_nonzero(x, dim=None):
    """How many elements are not zero, over `dim` (all by default): an int64 tensor."""
    x = as_tensor(x)
    dims = normalize_dims(dim, x.ndim, "count_nonzero")
    return as_tensor(np.count_nonzero(x._data, axis=dims).astype(np.int64))


def var_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) in one call, as PyTorch's var_mean."""
    return var(x, dim, unbiased, keepdim, correction=correction), _mean_for(x, dim, keepdim)


def std_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) in one call, as PyTorch's std_mean."""
    return std(x, dim, unbiased, keepdim, correction=correction), _mean_for(x, dim, keepdim)


def _mean_for(x, dim, keepdim):
    return mean(x, None if type(dim) is bool else dim, keepdim)


@op(
    "cumprod",
    saves_out=True,
    casts=True,
    rule="dL/dx_i = sum over j >= i of dL/dout_j * out_j / x_i",
)
def cumprod(x, dim):
    """Running products along `dim`. d out_j / d x_i = prod_{k <= j, k != i} x_k for i <= j:
    with no zero that is out_j / x_i, a reversed running sum; with zeros, the products are
    formed outright (n^2 per line), as PyTorch does, so zeros get exact gradients."""
    data = x._data
    if data.ndim == 0:  # PyTorch allows dim 0 of a 0-d tensor: the value itself
        normalize_dims(dim, 0, "cumprod")
        return data.copy(), lambda grad, out: grad
    (axis,) = normalize_dims(dim, data.ndim, "cumprod")

    def vjp(grad, out, x=x):
        if (x._data != 0).all():
            return _reversed_cumsum(grad * out, axis) / x
        return _cumprod_grad_with_zeros(grad, x, axis)

    return np.cumprod(data, axis=axis), vjp


def _reversed_cumsum(t, axis):
    return flip(cumsum(flip(t, (axis,)), axis), (axis,))


def _cumprod_grad_with_zeros(grad, x, axis):
    # row i of `others` is x with x_i replaced by 1, so its running product at j is
    # prod_{k <= j, k != i} x_k; only j >= i count
    size = x._data.shape[axis]
    last = movedim(x, axis, -1)
    eye = np.eye(size, dtype=bool)
    others = where(eye, 1.0, unsqueeze(last, -2))  # (..., i, j)
    products = cumprod(others, -1)
    later = as_tensor(np.triu(np.ones((size, size), dtype=x._data.dtype)))  # j >= i
    weights = unsqueeze(movedim(grad, axis, -1), -2)
    return movedim(sum(products * later * weights, -1), -1, axis)


@op(
    "logcumsumexp",
    saves_out=True,
    rule="dL/dx_i = sum over j >= i of dL/dout_j * exp(x_i - out_j)",
)
def logcumsumexp(x, dim):
    """log of the running sums of exp along `dim`, without overflow (NumPy's
    logaddexp.accumulate). d out_j / d x_i = exp(x_i - out_j) for i <= j; the gradient sums
    those in log space, split by the sign of the incoming gradient, as PyTorch does."""
    data = x._data
    if data.ndim == 0:
        normalize_dims(dim, 0, "logcumsumexp")
        return data.copy(), lambda grad, out: grad
    (axis,) = normalize_dims(dim, data.ndim, "logcumsumexp")

    def vjp(grad, out, x=x):
        # sum_{j >= i} g_j exp(x_i - out_j) = exp(x_i + log sum_{j >= i} g_j exp(-out_j)); an
        # absent sign gets the lowest finite log, not -inf, whose differences are NaN in the
        # second derivative (PyTorch's choice too)
        positive, negative = grad._data > 0, grad._data < 0
        lowest = float(np.finfo(grad._data.dtype).min)
        log_positive = where(positive, log(where(positive, grad, 1.0)), lowest)
        log_negative = where(negative, log(where(negative, -grad, 1.0)), lowest)
        up = flip(logcumsumexp(flip(log_positive - out, (axis,)), axis), (axis,))
        down = flip(logcumsumexp(flip(log_negative - out, (axis,)), axis), (axis,))
        return exp(x + up) - exp(x + down)

    return np.logaddexp.accumulate(data, axis=axis), vjp


@numpy_names
def cummax(x, dim):
    """(values, indices): the running largest value along `dim` and where it is (the latest of
    ties; a NaN, once met, stays), as PyTorch; the values are gathered, so each gets its
    element's gradient."""
    return _running_extreme(x, dim, np.maximum, cummax_result, "cummax")


@numpy_names
def cummin(x, dim):
    """(values, indices): the running smallest value along `dim`, as cummax."""
    return _running_extreme(x, dim, np.minimum, cummin_result, "cummin")


def _running_extreme(x, dim, ufunc, result, name):
    x = as_tensor(x)
    data = x._data
    if data.ndim == 0:
        normalize_dims(dim, 0, name)
        return result(clone(x), as_tensor(np.zeros((), np.int64)))
    (axis,) = normalize_dims(dim, data.ndim, name)
    running = ufunc.accumulate(data, axis=axis)
    # the latest position that holds the running value (or a NaN, which then runs on)
    holds = (data == running) | np.isnan(data)
    place = np.arange(data.shape[axis]).reshape((-1,) + (1,) * (data.ndim - axis - 1))
    indices = np.maximum.accumulate(np.where(holds, place, 0), axis=axis).astype(np.int64)
    return result(gather(x, axis, indices), as_tensor(indices))


@numpy_names
def kthvalue(x, k, dim=-1, keepdim=False):
    """(values, indices): the k-th smallest along `dim` (k from 1), by a stable sort (NaN
    largest); among ties, which index is returned PyTorch leaves unspecified."""
    x = as_tensor(x)
    size = x.shape[dim] if x.ndim else 1
    if not 1 <= k <= size:
        raise RuntimeError(
            f"{op_context('kthvalue')}: k ({k}) is out of range for a dim of size {size}"
        )
    return _order_statistic(
        x, dim, keepdim, lambda n, nans: np.full_like(nans, k - 1), kthvalue_result, "kthvalue"
    )


@numpy_names
def median(x, dim=None, keepdim=False):
    """median(x): the lower median of all elements (NaN if any is NaN), ties sharing the
    gradient as max() does; median(x, dim): (values, indices), the gradient going to the index
    returned (among ties, the one a stable sort puts in the middle)."""
    x = as_tensor(x)
    if dim is None:
        if keepdim:
            raise TypeError(f"{op_context('median')}: keepdim=True needs a dim, as in PyTorch")
        return _median_of_all(x, "median", skip_nans=False)
    dim = single_dim(dim, "median")
    return _order_statistic(
        x,
        dim,
        keepdim,
        lambda n, nans: np.where(nans > 0, n - nans, (n - 1) // 2),
        median_result,
        "median",
    )


def _median_of_all(x, name, skip_nans):
    """The lower median of all elements (of those not NaN with skip_nans), its gradient shared
    among the elements equal to it, as max() shares; where the median is NaN, the NaNs share."""
    data = x._data.reshape(-1)
    if data.size == 0:
        raise ValueError(f"{op_context(name)}: the median of no elements is undefined")
    nans = np.isnan(data)
    kept = data[~nans] if skip_nans else data
    if nans.any() and (not skip_nans or kept.size == 0):
        hit = np.isnan(x._data)
    else:
        hit = x._data == np.sort(kept, kind="stable")[(kept.size - 1) // 2]
    return sum(where(hit, x, 0.0)) / float(hit.sum())


def _order_statistic(x, dim, keepdim, position, result, name):
    """The element at a sorted position along `dim` (position(n, NaN counts) -> index into the
    stable sort, NaN last), gathered, so it gets the gradient."""
    data = x._data
    if data.ndim == 0:
        normalize_dims(dim, 0, name)
        return result(clone(x), as_tensor(np.zeros((), np.int64)))
    (axis,) = normalize_dims(dim, data.ndim, name)
    size = data.shape[axis]
    _refuse_empty(data.shape, (axis,), name)
    order = np.argsort(data, axis=axis, kind="stable")
    nans = np.isnan(data).sum(axis=axis, keepdims=True)
    picked = np.take_along_axis(order, np.asarray(position(size, nans)).astype(np.int64), axis)
    indices = as_tensor(picked.astype(np.int64))
    values = gather(x, axis, indices)
    if not keepdim:
        values, indices = squeeze(values, axis), squeeze(indices, axis)
    return result(values, indices)


@numpy_names
def quantile(x, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The q-th quantiles (q a number or 1-D tensor in [0, 1]) along `dim` (of all elements
    when None), between sorted neighbours by `interpolation` ("linear", "lower", "higher",
    "nearest", "midpoint"), as PyTorch's; NaN where the line holds a NaN. A q tensor adds a
    leading dim. The values are gathered and blended, so gradients reach the neighbours."""
    return _quantile(x, q, dim, keepdim, interpolation, "quantile")


@numpy_names
def nanquantile(x, q, dim=None, keepdim=False, *, interpolation="linear"):
    """quantile of the elements that are not NaN (NaN where a line has none)."""
    return _quantile(x, q, dim, keepdim, interpolation, "nanquantile")


def _quantile(x, q, dim, keepdim, interpolation, name):
    x = as_tensor(x)
    methods = ("linear", "lower", "higher", "nearest", "midpoint")
    if interpolation not in methods:
        raise ValueError(
            f"{op_context(name)}: interpolation must be one of {methods}, not {interpolation!r}"
        )
    q_values = np.asarray(q._data if hasattr(q, "_data") else q, dtype=np.float64)
    if q_values.ndim > 1 or (q_values.size and (q_values.min() < 0 or q_values.max() > 1)):
        raise ValueError(
            f"{op_context(name)}: q must be a number or 1-D tensor in [0, 1], got "
            f"{q_values.tolist()}"
        )
    if dim is None:
        source, axis = reshape(x, -1), 0
    else:
        (axis,) = normalize_dims(dim, builtins.max(x.ndim, 1), name)
        source = x if x.ndim else reshape(x, 1)
    _refuse_empty(source.shape, (axis,), name)
    ordered = sort(source, axis).values  # NaN last
    nans = np.isnan(source._data)
    # how many values each line ranks: all of them (a NaN then makes the line NaN), or those
    # that are not NaN
    if name == "nanquantile":
        counts = (~nans).sum(axis=axis, keepdims=True)
        void = counts == 0
    else:
        counts = np.full(nans.any(axis=axis, keepdims=True).shape, source.shape[axis])
        void = nans.any(axis=axis, keepdims=True)
    # a line with nothing to rank takes, as PyTorch's, the NaN at its last rank (quantile) or
    # first (nanquantile, whose count is 0): the value is NaN and the gradient reaches it
    picks = []
    for share in q_values.reshape(-1):
        rank = share * np.maximum(counts - 1, 0)
        if interpolation == "lower":
            rank = np.floor(rank)
        elif interpolation == "higher":
            rank = np.ceil(rank)
        elif interpolation == "nearest":
            rank = np.round(rank)  # halves to even, as PyTorch
        if name == "quantile":
            rank = np.where(void, counts - 1, rank)
        below, above = np.floor(rank).astype(np.int64), np.ceil(rank).astype(np.int64)
        fraction = 0.5 * (above != below) if interpolation == "midpoint" else rank - below
        fraction = fraction.astype(ordered._data.dtype)  # an array would promote float32
        low = gather(ordered, axis, below)
        high = gather(ordered, axis, above)
        # where the rank is whole the neighbour takes no part (an infinite one would give NaN)
        picks.append(where(fraction == 0, low, low + (high - low) * fraction))
    out = cat(picks, axis) if picks else narrow(ordered, axis, 0, 0)
    out = movedim(out, axis, 0)  # one row per q, as PyTorch puts q's dim first
    if keepdim:
        if dim is None:
            out = reshape(out, (out.shape[0],) + (1,) * x.ndim)
        else:
            out = unsqueeze(out, axis + 1)
    if q_values.ndim == 0:
        out = squeeze(out, 0)
    return out


nanmedian_result = namedtuple("nanmedian", ["values", "indices"])


@numpy_names
def nanmedian(x, dim=None, keepdim=False):
    """median of the elements that are not NaN (NaN where there are none), as PyTorch's."""
    x = as_tensor(x)
    if dim is None:
        if keepdim:
            raise TypeError(f"{op_context('nanmedian')}: keepdim=True needs a dim, as in PyTorch")
        return _median_of_all(x, "nanmedian", skip_nans=True)
    dim = single_dim(dim, "nanmedian")
    return _order_statistic(
        x,
        dim,
        keepdim,
        lambda n, nans: np.maximum((n - nans - 1) // 2, 0),
        nanmedian_result,
        "nanmedian",
    )


def histc(x, bins=100, min=0, max=0):
    """Counts in `bins` equal bins over [min, max] (the data's range when both are 0); values
    outside are left out. Not differentiable."""
    data = as_tensor(x)._data
    low, high = float(min), float(max)
    if not isinstance(bins, (int, np.integer)) or bins <= 0:
        raise RuntimeError(f"{op_context('histc')}: bins must be a positive integer, got {bins!r}")
    if low > high:
        raise RuntimeError(f"{op_context('histc')}: max ({max}) must be larger than min ({min})")
    if low == high == 0 and data.size:
        low, high = float(data.min()), float(data.max())
    if low == high:
        low, high = low - 1, high + 1  # one value: a bin around it, as PyTorch
    counts, _ = np.histogram(data, bins=bins, range=(low, high))
    return as_tensor(counts.astype(data.dtype if data.dtype.kind == "f" else np.float32))


histogram_result = namedtuple("histogram", ["hist", "bin_edges"])


def histogram(x, bins=100, *, range=None, weight=None, density=False):
    """(hist, bin_edges) as NumPy's histogram, in x's dtype (PyTorch's histogram)."""
    data = as_tensor(x)._data
    weights = None if weight is None else as_tensor(weight)._data
    edges_in = as_tensor(bins)._data if not isinstance(bins, int) else bins
    hist, edges = np.histogram(data, bins=edges_in, range=range, weights=weights, density=density)
    dtype = data.dtype if data.dtype.kind == "f" else np.float32
    return histogram_result(as_tensor(hist.astype(dtype)), as_tensor(edges.astype(dtype)))


unique_result = namedtuple("unique", ["values", "inverse", "counts"])


def searchsorted(sorted_sequence, values, *, right=False, side=None, sorter=None):
    """Where each value would be inserted into the sorted last dim of `sorted_sequence` to keep
    it sorted (leftmost place, or rightmost with right=True / side="right"): int64, as
    PyTorch's searchsorted (1-D, or one sorted row per leading index)."""
    sequence = as_tensor(sorted_sequence)._data
    targets = (
        as_tensor(values)._data if not isinstance(values, (int, float)) else np.asarray(values)
    )
    side = side or ("right" if right else "left")
    if sorter is not None:
        sequence = np.take_along_axis(sequence, as_tensor(sorter)._data, -1)
    if sequence.ndim <= 1:
        return as_tensor(np.searchsorted(sequence, targets, side=side).astype(np.int64))
    if sequence.shape[:-1] != targets.shape[:-1]:
        raise ValueError(
            f"{op_context('searchsorted')}: the leading dims of the sequence {sequence.shape} and "
            f"the values {targets.shape} must match"
        )
    rows = sequence.reshape(-1, sequence.shape[-1])
    wanted = targets.reshape(rows.shape[0], -1)
    places = np.stack([np.searchsorted(r, w, side=side) for r, w in zip(rows, wanted)])
    return as_tensor(places.reshape(targets.shape).astype(np.int64))


def bucketize(input, boundaries, *, right=False):
    """The bucket of each element among 1-D sorted `boundaries` (PyTorch's bucketize: right=True
    puts a value equal to a boundary in the bucket above it)."""
    return searchsorted(boundaries, input, side="left" if not right else "right")


def unique(x, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct elements (sorted), and where each element of x went and how often each
    occurs when asked, as PyTorch's unique; not differentiable."""
    data = as_tensor(x)._data
    found = np.unique(data, return_inverse=True, return_counts=True, axis=dim)
    values, inverse, counts = (as_tensor(found[0]), found[1], found[2])
    inverse = as_tensor(inverse.reshape(data.shape if dim is None else (-1,)).astype(np.int64))
    counts = as_tensor(counts.astype(np.int64))
    if return_inverse and return_counts:
        return values, inverse, counts
    if return_inverse:
        return values, inverse
    if return_counts:
        return values, counts
    return values


def bincount(x, weights=None, minlength=0):
    """How often each non-negative integer occurs in the 1-D x (summing `weights` instead when
    given), as PyTorch's bincount; not differentiable."""
    data = as_tensor(x)._data
    if data.ndim != 1 or data.dtype.kind not in "iu" or (data.size and data.min() < 0):
        raise ValueError(f"{op_context('bincount')}: expects a 1-D tensor of non-negative integers")
    weight_data = None if weights is None else as_tensor(weights)._data
    counts = np.bincount(data, weight_data, minlength)
    if weight_data is None:
        return as_tensor(counts.astype(np.int64))
    dtype = weight_data.dtype if weight_data.dtype.kind == "f" else np.float64
    return as_tensor(counts.astype(dtype))


def cov(x, *, correction=1, fweights=None, aweights=None):
    """The covariance of the rows of x (variables) over its columns (observations), as
    PyTorch's cov; composed, so differentiable. fweights and aweights are not taken yet."""
    x = as_tensor(x)
    if fweights is not None or aweights is not None:
        raise NotImplementedError(f"{op_context('cov')}: fweights and aweights are not taken yet")
    if x.ndim > 2:
        raise ValueError(f"{op_context('cov')}: expects at most 2 dims, got {x.shape}")
    rows = reshape(x, 1, -1) if x.ndim < 2 else x
    centered = rows - mean(rows, 1, keepdim=True)
    count = builtins.max(rows.shape[1] - correction, 0)
    out = (centered @ centered.mT) / count
    return reshape(out, ()) if x.ndim < 2 else out


def corrcoef(x):
    """Pearson correlation coefficients between the rows of x, clipped to [-1, 1]."""
    x = as_tensor(x)
    covariance = cov(x)
    if covariance.ndim == 0:
        return covariance / covariance
    spread = diagonal_of(covariance).sqrt()
    out = covariance / unsqueeze(spread, 1) / unsqueeze(spread, 0)
    return out.clamp(-1.0, 1.0)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoid rule along `dim`: sum of (y_i + y_(i+1)) / 2 times the spacing (dx, 1 by
    default, or the differences of x), as PyTorch's trapezoid."""
    y = as_tensor(y)
    (axis,) = normalize_dims(dim, y.ndim, "trapezoid")
    if y.shape[axis] == 0:
        return sum(y, axis)
    return sum(_trapezoids(y, x, dx, axis), axis)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoid rule along `dim` (one value fewer than y), as PyTorch's."""
    y = as_tensor(y)
    (axis,) = normalize_dims(dim, y.ndim, "cumulative_trapezoid")
    return cumsum(_trapezoids(y, x, dx, axis), axis)


def _trapezoids(y, x, dx, axis):
    """Each interval's area along `axis`: the mean of its two ends times its width."""
    n = y.shape[axis]
    average = (narrow(y, axis, 1, n - 1) + narrow(y, axis, 0, n - 1)) * 0.5
    if x is None:
        return average * (1.0 if dx is None else dx)
    x = as_tensor(x)
    along = -1 if x.ndim == 1 else axis
    spacing = narrow(x, along, 1, n - 1) - narrow(x, along, 0, n - 1)
    if x.ndim == 1 and y.ndim > 1:
        spacing = reshape(spacing, (n - 1,) + (1,) * (y.ndim - axis - 1))
    return average * spacing


def msort(x):
    """x sorted along dim 0 (values only)."""
    return sort(x, 0).values


def scatter_reduce(x, dim, index, src, reduce, *, include_self=True):
    """x with src's values reduced into the places index names along `dim` ("sum", "prod",
    "mean", "amax", "amin"; with include_self, x's own value there takes part), as PyTorch's
    scatter_reduce. Composed: sums are scatter_add, means divide by constant counts, and amax
    and amin weight each tied winner by 1/ties, so the gradient is shared as PyTorch shares it;
    products go through prod, exact through zeros."""
    methods = ("sum", "prod", "mean", "amax", "amin")
    if reduce not in methods:
        raise NotImplementedError(
            f"{op_context('scatter_reduce')}: reduce={reduce!r}; pathgrad takes {methods}"
        )
    x, index = _scatter_index("scatter_reduce", x, index)
    src = _scatter_source("scatter_reduce", x, index, src)
    positions = _gather_positions("scatter_reduce", x.shape, dim, index._data)
    hit = np.zeros(x.shape, dtype=bool)
    hit[positions] = True
    if reduce == "prod":
        return _scatter_prod(x, src, positions, hit, include_self)
    own = x if include_self else where(hit, 0.0, x)
    if reduce in ("sum", "mean"):
        total = own + scatter_add_zeros(src, dim, index._data, x.shape)
        if reduce == "sum":
            return total
        counts = np.zeros(x.shape, dtype=np.int64)
        np.add.at(counts, positions, 1)
        counts += include_self
        divisor = np.where(hit, np.maximum(counts, 1), 1).astype(x._data.dtype)
        return total / as_tensor(divisor)
    extreme = np.maximum if reduce == "amax" else np.minimum
    result = x._data.copy()
    if not include_self:
        result[hit] = -np.inf if reduce == "amax" else np.inf
    extreme.at(result, positions, src._data)
    winner = np.isnan(result)  # a NaN wins, and NaNs share, as elsewhere
    own_ties = hit & ((x._data == result) | (winner & np.isnan(x._data))) & include_self
    src_ties = (src._data == result[positions]) | (winner[positions] & np.isnan(src._data))
    ties = own_ties.astype(np.int64)
    np.add.at(ties, positions, src_ties.astype(np.int64))
    dtype = x._data.dtype
    own_weight = np.where(hit, own_ties / np.maximum(ties, 1), 1.0).astype(dtype)
    src_weight = (src_ties / np.maximum(ties[positions], 1)).astype(dtype)
    weighted_src = src * as_tensor(src_weight)
    return x * as_tensor(own_weight) + scatter_add_zeros(weighted_src, dim, index._data, x.shape)


def _scatter_prod(x, src, positions, hit, include_self):
    """Each hit place's product of what lands there: a table with one row per place (src's
    values, x's own where included, ones elsewhere), multiplied along its rows by prod."""
    shape = x.shape
    targets = np.ravel_multi_index(tuple(np.broadcast_arrays(*positions)), shape).reshape(-1)
    places, rows = np.unique(targets, return_inverse=True)
    counts = np.bincount(rows, minlength=places.size)
    order = np.argsort(rows, kind="stable")
    slots = np.empty_like(rows)
    slots[order] = np.arange(rows.size) - np.repeat(np.cumsum(counts) - counts, counts)
    width = int(counts.max()) + include_self
    table = index_put_zeros(
        reshape(src, -1), (places.size, width), _Normalized((rows, slots), True)
    )
    filled = np.zeros((places.size, width), dtype=bool)
    filled[rows, slots] = True
    if include_self:
        last = (np.arange(places.size), np.full(places.size, width - 1))
        own = getitem(reshape(x, -1), places)
        table = table + index_put_zeros(own, (places.size, width), _Normalized(last, True))
        filled[last] = True
    products = prod(where(filled, table, 1.0), 1)
    spread = index_put_zeros(products, (math.prod(shape),), _Normalized((places,), True))
    return where(hit, reshape(spread, shape), x)


def index_reduce(x, dim, index, source, reduce, *, include_self=True):
    """x with source's slices reduced into the positions `index` (1-D) along `dim` ("prod",
    "mean", "amax", "amin"), as PyTorch's index_reduce: scatter_reduce with the index spread
    over source's other dims."""
    x, source = as_tensor(x), as_tensor(source)
    (axis,) = normalize_dims(dim, x.ndim, "index_reduce")
    positions = np.asarray(index._data if hasattr(index, "_data") else index)
    if positions.ndim != 1 or positions.dtype.kind not in "iu":
        raise IndexError(
            f"{op_context('index_reduce')}: index must be a 1-D integer tensor, got shape "
            f"{positions.shape} and dtype {positions.dtype}"
        )
    if reduce == "sum":
        raise ValueError(f"{op_context('index_reduce')}: use index_add for sums, as PyTorch")
    spread = spread_index("index_reduce", x, axis, positions, source)
    return scatter_reduce(x, axis, spread, source, reduce, include_self=include_self)


def renorm(x, p, dim, maxnorm):
    """x with each slice along `dim` whose p-norm exceeds maxnorm scaled down to maxnorm (the
    others untouched), as PyTorch's renorm, whose scale is maxnorm / (norm + 1e-7); the scale
    is part of the graph."""
    x = as_tensor(x)
    (axis,) = normalize_dims(dim, x.ndim, "renorm")
    others = tuple(d for d in range(x.ndim) if d != axis)
    norms = norm(x, p, others, keepdim=True)
    over = norms._data > maxnorm
    scale = where(over, maxnorm / (where(over, norms, 1.0) + 1e-7), 1.0)
    return x * scale


mode_result = namedtuple("mode", ["values", "indices"])


@numpy_names
def mode(x, dim=-1, keepdim=False):
    """(values, indices): the most frequent value along `dim` (the smallest of those tied),
    and the last place it stands, as PyTorch's mode; the values are gathered, so they get the
    gradient."""
    x = as_tensor(x)
    data = x._data
    if data.ndim == 0:
        normalize_dims(dim, 0, "mode")
        return mode_result(clone(x), as_tensor(np.zeros((), np.int64)))
    (axis,) = normalize_dims(dim, data.ndim, "mode")
    _refuse_empty(data.shape, (axis,), "mode")
    lines = np.moveaxis(data, axis, -1).reshape(-1, data.shape[axis])
    places = np.empty(lines.shape[0], dtype=np.int64)
    for row, line in enumerate(lines):
        values, counts = np.unique(line, return_counts=True)  # sorted: the first top is smallest
        winner = values[np.argmax(counts)]
        hits = np.flatnonzero((line == winner) | (np.isnan(line) & np.isnan(winner)))
        places[row] = hits[-1]
    shape = np.moveaxis(data, axis, -1).shape[:-1]
    indices = np.expand_dims(places.reshape(shape), axis)
    values = gather(x, axis, indices)
    indices = as_tensor(indices)
    if not keepdim:
        values, indices = squeeze(values, axis), squeeze(indices, axis)
    return mode_result(values, indices)


def unique_consecutive(x, return_inverse=False, return_counts=False, dim=None):
    """The flattened x with runs of equal neighbours collapsed (and where each element went,
    and each run's length, when asked), as PyTorch's unique_consecutive; not differentiable."""
    if dim is not None:
        raise NotImplementedError(
            f"{op_context('unique_consecutive')}: dim= is not taken yet; pathgrad collapses the "
            "flattened tensor"
        )
    data = as_tensor(x)._data
    flat = data.reshape(-1)
    starts = np.concatenate([[True], flat[1:] != flat[:-1]]) if flat.size else np.zeros(0, bool)
    values = as_tensor(flat[starts])
    inverse = as_tensor((np.cumsum(starts) - 1).reshape(data.shape).astype(np.int64))
    counts = as_tensor(np.diff(np.append(np.flatnonzero(starts), flat.size)).astype(np.int64))
    extra = [t for t, asked in ((inverse, return_inverse), (counts, return_counts)) if asked]
    return tuple([values] + extra) if extra else values


def gradient(x, *, spacing=1, dim=None, edge_order=1):
    """Estimates of x's derivative along each dim (all, or `dim`) from its samples: central
    differences inside, one-sided ones of `edge_order` (1 or 2) at the ends, on a uniform
    `spacing` or at given coordinates, as PyTorch's gradient and NumPy's; one tensor per dim.
    Differentiable in x (the coordinates are constants)."""
    x = as_tensor(x)
    dims = normalize_dims(dim, x.ndim, "gradient") if dim is not None else tuple(range(x.ndim))
    if edge_order not in (1, 2):
        raise ValueError(f"{op_context('gradient')}: edge_order must be 1 or 2, not {edge_order}")
    if isinstance(spacing, (int, float)):
        spacings = [spacing] * len(dims)
    else:
        spacings = list(spacing)
        if len(spacings) == 1 and len(dims) > 1 and isinstance(spacings[0], (int, float)):
            spacings = spacings * len(dims)
        if len(spacings) != len(dims):
            raise ValueError(
                f"{op_context('gradient')}: {len(spacings)} spacings for {len(dims)} dims"
            )
    return tuple(_gradient_along(x, axis, step, edge_order) for axis, step in zip(dims, spacings))


def _gradient_along(x, axis, step, edge_order):
    n = x.shape[axis]
    if n < edge_order + 1:
        raise ValueError(
            f"{op_context('gradient')}: dim {axis} has {n} samples; edge_order {edge_order} "
            f"needs at least {edge_order + 1}"
        )
    dtype = x._data.dtype if x._data.dtype.kind == "f" else np.float64
    if isinstance(step, (int, float)):
        widths = np.full(n - 1, float(step))
    else:
        coordinates = np.asarray(as_tensor(step)._data, dtype=np.float64)
        widths = np.diff(coordinates)

    def shaped(values):  # constants along `axis`, broadcast over the other dims
        return as_tensor(values.astype(dtype).reshape((-1,) + (1,) * (x.ndim - axis - 1)))

    def samples(start, count):
        return narrow(x, axis, start, count)

    pieces = []
    left, right = widths[:-1], widths[1:]
    if edge_order == 1:
        pieces.append((samples(1, 1) - samples(0, 1)) / float(widths[0]))
    else:
        h1, h2 = widths[0], widths[1]
        a, b, c = -(2 * h1 + h2) / (h1 * (h1 + h2)), (h1 + h2) / (h1 * h2), -h1 / (h2 * (h1 + h2))
        pieces.append(samples(0, 1) * a + samples(1, 1) * b + samples(2, 1) * c)
    if n > 2:
        below = -right / (left * (left + right))
        centre = (right - left) / (left * right)
        above = left / (right * (left + right))
        pieces.append(
            samples(0, n - 2) * shaped(below)
            + samples(1, n - 2) * shaped(centre)
            + samples(2, n - 2) * shaped(above)
        )
    if edge_order == 1:
        pieces.append((samples(n - 1, 1) - samples(n - 2, 1)) / float(widths[-1]))
    else:
        h1, h2 = widths[-2], widths[-1]
        a, b, c = h2 / (h1 * (h1 + h2)), -(h2 + h1) / (h1 * h2), (2 * h2 + h1) / (h2 * (h1 + h2))
        pieces.append(samples(n - 3, 1) * a + samples(n - 2, 1) * b + samples(n - 1, 1) * c)
    return cat(pieces, axis)

"""NumPy's functions on tensors, run as pathgrad's ops so the graph is kept.

`np.exp(t)` reaches `Tensor.__array_ufunc__` and `np.sum(t, axis=0)` reaches
`Tensor.__array_function__` (NEP 13 and NEP 18); both look the function up here by name and call
the op for the same maths, translating NumPy's arguments (axis, keepdims, ddof) into pathgrad's
(dim, keepdim, correction). A NumPy function with no entry here computes on the arrays, as before
the protocol, and gives an ndarray; a ufunc with no entry is refused by name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from pathgrad.ops import compare, elementwise, linalg, matrix, reduce
from pathgrad.ops import shape as shape_ops
from pathgrad.ops.registry import as_tensor

# ufuncs: called with their inputs as they are (array-likes or tensors)
UFUNC_OPS: dict[Any, Callable[..., Any]] = {
    np.add: elementwise.add,
    np.subtract: elementwise.sub,
    np.multiply: elementwise.mul,
    np.divide: elementwise.div,
    np.power: elementwise.pow,
    np.float_power: elementwise.pow,
    np.negative: elementwise.neg,
    np.positive: lambda x: x,
    np.absolute: elementwise.abs,
    np.exp: elementwise.exp,
    np.log: elementwise.log,
    np.log1p: elementwise.log1p,
    np.log2: elementwise.log2,
    np.log10: elementwise.log10,
    np.expm1: elementwise.expm1,
    np.tan: elementwise.tan,
    np.reciprocal: elementwise.reciprocal,
    np.sqrt: elementwise.sqrt,
    np.square: elementwise.square,
    np.sin: elementwise.sin,
    np.cos: elementwise.cos,
    np.tanh: elementwise.tanh,
    np.maximum: elementwise.maximum,
    np.minimum: elementwise.minimum,
    np.sign: elementwise.sign,
    np.floor_divide: elementwise.floor_divide,
    np.remainder: elementwise.remainder,
    np.matmul: linalg.matmul,
    np.equal: compare.eq,
    np.not_equal: compare.ne,
    np.less: compare.lt,
    np.less_equal: compare.le,
    np.greater: compare.gt,
    np.greater_equal: compare.ge,
    np.isnan: compare.isnan,
    np.isfinite: compare.isfinite,
    np.bitwise_and: compare.bitwise_and,
    np.bitwise_or: compare.bitwise_or,
    np.bitwise_xor: compare.bitwise_xor,
    np.invert: compare.bitwise_not,
    np.arcsin: elementwise.asin,
    np.arccos: elementwise.acos,
    np.arctan: elementwise.atan,
    np.arctan2: elementwise.atan2,
    np.sinh: elementwise.sinh,
    np.cosh: elementwise.cosh,
    np.arcsinh: elementwise.asinh,
    np.arccosh: elementwise.acosh,
    np.arctanh: elementwise.atanh,
    np.floor: elementwise.floor,
    np.ceil: elementwise.ceil,
    np.trunc: elementwise.trunc,
    np.rint: elementwise.round,
    np.fmod: elementwise.fmod,
    np.hypot: elementwise.hypot,
    np.logaddexp: elementwise.logaddexp,
    np.logaddexp2: elementwise.logaddexp2,
    np.fmax: elementwise.fmax,
    np.fmin: elementwise.fmin,
    np.exp2: elementwise.exp2,
    np.deg2rad: elementwise.deg2rad,
    np.radians: elementwise.deg2rad,
    np.rad2deg: elementwise.rad2deg,
    np.degrees: elementwise.rad2deg,
    np.isinf: compare.isinf,
    np.signbit: compare.signbit,
    np.heaviside: compare.heaviside,
    np.left_shift: compare.bitwise_left_shift,
    np.right_shift: compare.bitwise_right_shift,
    np.logical_and: compare.logical_and,
    np.logical_or: compare.logical_or,
    np.logical_xor: compare.logical_xor,
    np.logical_not: compare.logical_not,
}

# Each function below takes NumPy's signature and returns None for a call pathgrad cannot take
# (out=, where=, initial=, ...), which then runs on the arrays as NumPy's own.


def _accumulating(op: Callable[..., Any]) -> Callable[..., Any]:
    """np.sum / np.prod: (a, axis, dtype, out, keepdims, initial, where)."""

    def run(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
        if out is not None or initial is not None or where is not None:
            return None
        return op(a, axis, keepdim=bool(keepdims), dtype=dtype)

    return run


def _mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    if out is not None or where is not None:
        return None
    return reduce.mean(a, axis, keepdim=bool(keepdims), dtype=dtype)


def _extreme(op: Callable[..., Any]) -> Callable[..., Any]:
    """np.max / np.min (amax / amin), with PyTorch's amax rule: ties share the gradient."""

    def run(a, axis=None, out=None, keepdims=False, initial=None, where=None):
        if out is not None or initial is not None or where is not None:
            return None
        return op(a, axis, keepdim=bool(keepdims))

    return run


def _spread(op: Callable[..., Any]) -> Callable[..., Any]:
    """np.var / np.std: NumPy's ddof (0 by default, where PyTorch's correction is 1)."""

    def run(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, **rest):
        if dtype is not None or out is not None or where is not None or rest:
            return None
        return op(a, axis, correction=ddof, keepdim=bool(keepdims))

    return run


def _concatenate(arrays, axis=0, out=None, *, dtype=None, casting=None):
    if axis is None or out is not None or dtype is not None:
        return None  # flattening first is NumPy's alone
    return shape_ops.cat(list(arrays), axis)


def _stack(arrays, axis=0, out=None, *, dtype=None, casting=None):
    if out is not None or dtype is not None:
        return None
    return shape_ops.stack(list(arrays), axis)


def _where(condition, *branches):
    if len(branches) != 2:
        return None  # np.where(condition) alone gives indices
    return elementwise.where(condition, *branches)


def _reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    if order != "C" or copy is not None:
        return None
    return shape_ops.reshape(a, newshape if shape is None else shape)


def _transpose(a, axes=None):
    a = as_tensor(a)
    return shape_ops.permute(a, *(reversed(range(a.ndim)) if axes is None else axes))


def _clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None, **rest):
    low, high = (a_min if min is None else min), (a_max if max is None else max)
    if out is not None or rest or (low is None and high is None):
        return None
    return elementwise.clamp(a, low, high)


def _dot(a, b, out=None):
    a, b = as_tensor(a), as_tensor(b)
    if out is not None or a.ndim > 2 or b.ndim > 2:
        return None  # np.dot of N-D arrays sums over other axes than matmul
    return linalg.matmul(a, b) if a.ndim and b.ndim else elementwise.mul(a, b)


def _outer(a, b, out=None):
    return linalg.outer(a, b) if out is None else None


def _einsum(subscripts, *operands, out=None, dtype=None, order="K", casting="safe", optimize=False):
    if out is not None or dtype is not None or not isinstance(subscripts, str):
        return None  # NumPy's sublist form differs from PyTorch's, which pathgrad reads
    return linalg.einsum(subscripts, *operands)


def _flattened_or(a, axis):
    """NumPy's axis=None: the flattened array, along its one axis."""
    a = as_tensor(a)
    return (shape_ops.reshape(a, -1), 0) if axis is None else (a, axis)


def _cumsum(a, axis=None, dtype=None, out=None):
    if out is not None:
        return None
    return reduce.cumsum(*_flattened_or(a, axis), dtype=dtype)


def _sort(a, axis=-1, kind=None, order=None, *, stable=None):
    return None if order is not None else reduce.sort(*_flattened_or(a, axis)).values


def _argsort(a, axis=-1, kind=None, order=None, *, stable=None):
    return None if order is not None else reduce.argsort(*_flattened_or(a, axis))


def _round(a, decimals=0, out=None):
    return None if out is not None else elementwise.round(a, decimals)


def _nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    return elementwise.nan_to_num(x, nan, posinf, neginf) if copy else None  # copy=False: in place


def _svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    if hermitian:
        return None
    return matrix.svd(a, full_matrices) if compute_uv else matrix.svdvals(a)


def _cholesky(a, /, *, upper=False):
    return matrix.cholesky(a, upper=upper)


def _matrices_only(op: Callable[..., Any]) -> Callable[..., Any]:
    def run(m, k=0):
        return op(m, k) if as_tensor(m).ndim >= 2 else None  # NumPy's 1-D case makes a matrix

    return run


FUNCTION_OPS: dict[Any, Callable[..., Any]] = {
    np.sum: _accumulating(reduce.sum),
    np.mean: _mean,
    np.prod: _accumulating(reduce.prod),
    np.max: _extreme(reduce.amax),
    np.amax: _extreme(reduce.amax),
    np.min: _extreme(reduce.amin),
    np.amin: _extreme(reduce.amin),
    np.var: _spread(reduce.var),
    np.std: _spread(reduce.std),
    np.concatenate: _concatenate,
    np.stack: _stack,
    np.where: _where,
    np.reshape: _reshape,
    np.transpose: _transpose,
    np.squeeze: lambda a, axis=None: shape_ops.squeeze(a, axis),
    np.expand_dims: lambda a, axis: shape_ops.unsqueeze(a, axis),
    np.flip: lambda a, axis=None: shape_ops.flip(a, axis),
    np.broadcast_to: lambda array, shape, subok=False: shape_ops.expand(array, *shape),
    np.clip: _clip,
    np.dot: _dot,
    np.outer: _outer,
    np.einsum: _einsum,
    np.cumsum: _cumsum,
    np.sort: _sort,
    np.argsort: _argsort,
    np.tril: _matrices_only(shape_ops.tril),
    np.triu: _matrices_only(shape_ops.triu),
    np.roll: lambda a, shift, axis=None: shape_ops.roll(a, shift, axis),
    np.round: _round,
    np.around: _round,
    np.nan_to_num: _nan_to_num,
    np.linalg.inv: matrix.inv,
    np.linalg.det: matrix.det,
    np.linalg.slogdet: matrix.slogdet,
    np.linalg.cholesky: _cholesky,
    np.linalg.eigh: matrix.eigh,
    np.linalg.eigvalsh: matrix.eigvalsh,
    np.linalg.svd: _svd,
    np.linalg.qr: lambda a, mode="reduced": (
        matrix.qr(a, mode) if mode in ("reduced", "complete") else None
    ),
}

"""Comparisons, bitwise ops (`&`, `|`, `^`, `~`, `<<`, `>>`) and logical ops: not
differentiable, they return plain tensors."""

from __future__ import annotations

import numpy as np

from pathgrad.errors import op_context
from pathgrad.ops.registry import as_tensor, normalize_dims, numpy_names, op, value


@op("eq", inputs=2, broadcast=True, differentiable=False)
def eq(x, y):
    """x == y, broadcast, as a bool tensor."""
    return np.equal(value(x), value(y)), None


@op("ne", inputs=2, broadcast=True, differentiable=False)
def ne(x, y):
    """x != y, broadcast, as a bool tensor."""
    return np.not_equal(value(x), value(y)), None


@op("lt", inputs=2, broadcast=True, differentiable=False)
def lt(x, y):
    """x < y, broadcast, as a bool tensor."""
    return np.less(value(x), value(y)), None


@op("le", inputs=2, broadcast=True, differentiable=False)
def le(x, y):
    """x <= y, broadcast, as a bool tensor."""
    return np.less_equal(value(x), value(y)), None


@op("gt", inputs=2, broadcast=True, differentiable=False)
def gt(x, y):
    """x > y, broadcast, as a bool tensor."""
    return np.greater(value(x), value(y)), None


@op("ge", inputs=2, broadcast=True, differentiable=False)
def ge(x, y):
    """x >= y, broadcast, as a bool tensor."""
    return np.greater_equal(value(x), value(y)), None


@op("bitwise_and", inputs=2, broadcast=True, differentiable=False)
def bitwise_and(x, y):
    """x & y on integer or bool tensors (on masks: where both hold)."""
    return _bits("bitwise_and", np.bitwise_and, value(x), value(y)), None


@op("bitwise_or", inputs=2, broadcast=True, differentiable=False)
def bitwise_or(x, y):
    """x | y on integer or bool tensors."""
    return _bits("bitwise_or", np.bitwise_or, value(x), value(y)), None


@op("bitwise_xor", inputs=2, broadcast=True, differentiable=False)
def bitwise_xor(x, y):
    """x ^ y on integer or bool tensors."""
    return _bits("bitwise_xor", np.bitwise_xor, value(x), value(y)), None


@op("bitwise_not", differentiable=False)
def bitwise_not(x):
    """~x on integer or bool tensors."""
    return _bits("bitwise_not", np.invert, x._data), None


@op("bitwise_left_shift", inputs=2, broadcast=True, differentiable=False)
def bitwise_left_shift(x, y):
    """x << y on integer tensors."""
    return _bits("bitwise_left_shift", np.left_shift, value(x), value(y)), None


@op("bitwise_right_shift", inputs=2, broadcast=True, differentiable=False)
def bitwise_right_shift(x, y):
    """x >> y on integer tensors (arithmetic: the sign is kept)."""
    return _bits("bitwise_right_shift", np.right_shift, value(x), value(y)), None


def _bits(op_name, ufunc, *operands):
    try:
        return ufunc(*operands)
    except TypeError:
        dtypes = " and ".join(str(np.result_type(x)) for x in operands)
        raise TypeError(
            f"{op_context(op_name)}: reads the bits of integer or bool tensors, not {dtypes}, "
            "as in PyTorch"
        ) from None


@op("logical_and", inputs=2, broadcast=True, differentiable=False)
def logical_and(x, y):
    """Where both x and y are nonzero, as a bool tensor, for any dtype."""
    return np.logical_and(value(x), value(y)), None


@op("logical_or", inputs=2, broadcast=True, differentiable=False)
def logical_or(x, y):
    """Where x or y is nonzero, as a bool tensor."""
    return np.logical_or(value(x), value(y)), None


@op("logical_xor", inputs=2, broadcast=True, differentiable=False)
def logical_xor(x, y):
    """Where exactly one of x and y is nonzero, as a bool tensor."""
    return np.logical_xor(value(x), value(y)), None


@op("logical_not", differentiable=False)
def logical_not(x):
    """Where x is zero, as a bool tensor."""
    return np.logical_not(x._data), None


@op("isinf", differentiable=False)
def isinf(x):
    """Where x is +inf or -inf, as a bool tensor."""
    return np.isinf(x._data), None


@op("isposinf", differentiable=False)
def isposinf(x):
    """Where x is +inf, as a bool tensor."""
    return np.isposinf(x._data), None


@op("isneginf", differentiable=False)
def isneginf(x):
    """Where x is -inf, as a bool tensor."""
    return np.isneginf(x._data), None


@op("signbit", differentiable=False)
def signbit(x):
    """Where x's sign bit is set (so -0.0 too), as a bool tensor."""
    return np.signbit(x._data), None


@op("heaviside", inputs=2, broadcast=True, differentiable=False)
def heaviside(x, values):
    """0 where x < 0, 1 where x > 0, `values` where x is 0: a step, not differentiable."""
    return np.heaviside(value(x), value(values)), None


@op("isnan", differentiable=False)
def isnan(x):
    """Where x is NaN, as a bool tensor."""
    return np.isnan(x._data), None


@op("isfinite", differentiable=False)
def isfinite(x):
    """Where x is neither infinite nor NaN, as a bool tensor."""
    return np.isfinite(x._data), None


@op("isclose", inputs=2, broadcast=True, differentiable=False)
def isclose(x, y, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Where |x - y| <= atol + rtol |y|, as a bool tensor (PyTorch's and NumPy's test)."""
    return np.isclose(value(x), value(y), rtol=rtol, atol=atol, equal_nan=equal_nan), None


def allclose(x, y, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """Whether every element is close (isclose), as a Python bool."""
    return bool(isclose(x, y, rtol, atol, equal_nan)._data.all())


def equal(x, y) -> bool:
    """Whether x and y have one shape and the same elements, as a Python bool."""
    x, y = as_tensor(x), as_tensor(y)
    return x._data.shape == y._data.shape and bool(np.array_equal(x._data, y._data))


def isin(elements, test_elements, *, invert=False):
    """Where each element of `elements` is among `test_elements`, as a bool tensor."""
    values = as_tensor(elements)._data
    tests = (
        as_tensor(test_elements)._data
        if not isinstance(test_elements, (int, float))
        else test_elements
    )
    return as_tensor(np.isin(values, tests, invert=invert))


@numpy_names
def all_true(x, dim=None, keepdim=False):
    """Whether every element (over `dim`) is nonzero, as a bool tensor (PyTorch's all)."""
    data = as_tensor(x)._data
    axes = normalize_dims(dim, data.ndim, "all")
    return as_tensor(np.asarray(data.all(axis=axes, keepdims=keepdim)))


@numpy_names
def any_true(x, dim=None, keepdim=False):
    """Whether some element (over `dim`) is nonzero, as a bool tensor (PyTorch's any)."""
    data = as_tensor(x)._data
    axes = normalize_dims(dim, data.ndim, "any")
    return as_tensor(np.asarray(data.any(axis=axes, keepdims=keepdim)))


@op("gcd", inputs=2, broadcast=True, differentiable=False)
def gcd(x, y):
    """Greatest common divisor of integers, elementwise (non-negative)."""
    return _bits("gcd", np.gcd, value(x), value(y)), None


@op("lcm", inputs=2, broadcast=True, differentiable=False)
def lcm(x, y):
    """Least common multiple of integers, elementwise (non-negative)."""
    return _bits("lcm", np.lcm, value(x), value(y)), None


@op("nextafter", inputs=2, broadcast=True, differentiable=False)
def nextafter(x, y):
    """The next floating value after x toward y."""
    return np.nextafter(value(x), value(y)), None


def isreal(x):
    """Where x is real: everywhere, as pathgrad has no complex dtypes."""
    return as_tensor(np.ones(as_tensor(x).shape, dtype=bool))


def is_nonzero(x) -> bool:
    """Whether a one-element tensor is nonzero, as a Python bool (an error for more)."""
    data = as_tensor(x)._data
    if data.size != 1:
        raise RuntimeError(
            f"{op_context('is_nonzero')}: a tensor of one element is needed, got shape {data.shape}"
        )
    return bool(data.reshape(()))

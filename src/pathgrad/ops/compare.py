"""Comparisons and bitwise logic (`&`, `|`, `^`, `~` on bool masks): not differentiable, they
return plain tensors."""

from __future__ import annotations

import numpy as np

from pathgrad.ops.registry import as_tensor, op, value


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
    return np.bitwise_and(value(x), value(y)), None


@op("bitwise_or", inputs=2, broadcast=True, differentiable=False)
def bitwise_or(x, y):
    return np.bitwise_or(value(x), value(y)), None


@op("bitwise_xor", inputs=2, broadcast=True, differentiable=False)
def bitwise_xor(x, y):
    return np.bitwise_xor(value(x), value(y)), None


@op("bitwise_not", differentiable=False)
def bitwise_not(x):
    return np.invert(x.data), None


@op("isnan", differentiable=False)
def isnan(x):
    """Where x is NaN, as a bool tensor."""
    return np.isnan(x.data), None


@op("isfinite", differentiable=False)
def isfinite(x):
    """Where x is neither infinite nor NaN, as a bool tensor."""
    return np.isfinite(x.data), None


@op("isclose", inputs=2, broadcast=True, differentiable=False)
def isclose(x, y, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Where |x - y| <= atol + rtol |y|, as a bool tensor (PyTorch's and NumPy's test)."""
    return np.isclose(value(x), value(y), rtol=rtol, atol=atol, equal_nan=equal_nan), None


def allclose(x, y, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """Whether every element is close (isclose), as a Python bool."""
    return bool(isclose(x, y, rtol, atol, equal_nan).data.all())


def equal(x, y) -> bool:
    """Whether x and y have one shape and the same elements, as a Python bool."""
    x, y = as_tensor(x), as_tensor(y)
    return x.data.shape == y.data.shape and bool(np.array_equal(x.data, y.data))

"""Comparisons and bitwise logic (`&`, `|`, `^`, `~` on bool masks): not differentiable, they
return plain tensors."""

from __future__ import annotations

import numpy as np

from pathgrad.ops.registry import op, value


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

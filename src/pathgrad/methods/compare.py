"""Tensor methods: comparisons, bitwise and logical ops, and tests of values (isnan, isclose, ...).

`METHODS` names each method beside the function it binds (`pathgrad.methods.bind`); a
method whose arguments differ from its op's is a short function here."""

from __future__ import annotations

from typing import Any

import numpy as np

from pathgrad.methods.derive import reflected
from pathgrad.ops import compare
from pathgrad.ops.registry import NUMBER_TYPES
from pathgrad.tensor import Tensor


def _comparable(other: Any) -> bool:
    """What == compares element by element: tensors, numbers, arrays and lists of numbers. For
    anything else (None, a string, an object) == is False, as PyTorch, so `None in tensors`
    and a list's .index() work."""
    return isinstance(other, (Tensor, np.ndarray, np.generic, list, tuple, *NUMBER_TYPES))


def __eq__(self, other):  # type: ignore[override]
    if not _comparable(other):
        return NotImplemented  # Python then compares identity: t == None is False
    return compare.eq(self, other)


def __ne__(self, other):  # type: ignore[override]
    if not _comparable(other):
        return NotImplemented
    return compare.ne(self, other)


def eq(self, other):
    return compare.eq(self, other)


def ne(self, other):
    return compare.ne(self, other)


def lt(self, other):
    return compare.lt(self, other)


def le(self, other):
    return compare.le(self, other)


def gt(self, other):
    return compare.gt(self, other)


def ge(self, other):
    return compare.ge(self, other)


def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return compare.isclose(self, other, rtol, atol, equal_nan)


def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return compare.allclose(self, other, rtol, atol, equal_nan)


def equal(self, other) -> bool:
    return compare.equal(self, other)


def gcd(self, other):
    return compare.gcd(self, other)


def lcm(self, other):
    return compare.lcm(self, other)


def nextafter(self, other):
    return compare.nextafter(self, other)


METHODS = {
    "is_nonzero": compare.is_nonzero,
    "__eq__": __eq__,
    "__ne__": __ne__,
    "__lt__": compare.lt,
    "__le__": compare.le,
    "__gt__": compare.gt,
    "__ge__": compare.ge,
    "__and__": compare.bitwise_and,
    "__rand__": reflected(compare.bitwise_and),
    "__or__": compare.bitwise_or,
    "__ror__": reflected(compare.bitwise_or),
    "__xor__": compare.bitwise_xor,
    "__rxor__": reflected(compare.bitwise_xor),
    "__invert__": compare.bitwise_not,
    "__lshift__": compare.bitwise_left_shift,
    "__rlshift__": reflected(compare.bitwise_left_shift),
    "__rshift__": compare.bitwise_right_shift,
    "__rrshift__": reflected(compare.bitwise_right_shift),
    "bitwise_and": compare.bitwise_and,
    "bitwise_or": compare.bitwise_or,
    "bitwise_xor": compare.bitwise_xor,
    "bitwise_not": compare.bitwise_not,
    "bitwise_left_shift": compare.bitwise_left_shift,
    "bitwise_right_shift": compare.bitwise_right_shift,
    "logical_and": compare.logical_and,
    "logical_or": compare.logical_or,
    "logical_xor": compare.logical_xor,
    "logical_not": compare.logical_not,
    "isinf": compare.isinf,
    "isposinf": compare.isposinf,
    "isneginf": compare.isneginf,
    "signbit": compare.signbit,
    "heaviside": compare.heaviside,
    "eq": eq,
    "ne": ne,
    "lt": lt,
    "le": le,
    "gt": gt,
    "ge": ge,
    "all": compare.all_true,
    "any": compare.any_true,
    "isnan": compare.isnan,
    "isclose": isclose,
    "allclose": allclose,
    "equal": equal,
    "isfinite": compare.isfinite,
    "gcd": gcd,
    "lcm": lcm,
    "nextafter": nextafter,
    "isreal": compare.isreal,
}

"""Tensor methods: arithmetic (operators included), elementwise functions and special functions.

`METHODS` names each method beside the function it binds (`pathgrad.methods.bind`); a
method whose arguments differ from its op's is a short function here."""

from __future__ import annotations

from pathgrad.methods.derive import reflected
from pathgrad.ops import elementwise, special


def clone(self):
    """A copy with its own memory, still in the graph."""
    return elementwise.clone(self)


def __pos__(self):
    return self


def add(self, other, *, alpha=1):
    return elementwise.add(self, other if alpha == 1 else other * alpha)


def sub(self, other, *, alpha=1):
    return elementwise.sub(self, other if alpha == 1 else other * alpha)


def mul(self, other):
    return elementwise.mul(self, other)


def div(self, other, *, rounding_mode=None):
    return elementwise.divide(self, other, rounding_mode=rounding_mode)


def true_divide(self, other):
    return elementwise.div(self, other)


def remainder(self, other):
    return elementwise.remainder(self, other)


def floor_divide(self, other):
    return elementwise.floor_divide(self, other)


def pow(self, exponent):
    return elementwise.pow(self, exponent)


def positive(self):
    return self


def polygamma(self, n):
    return special.polygamma(n, self)


def clamp_min(self, min):
    return elementwise.clamp(self, min, None)


def clamp_max(self, max):
    return elementwise.clamp(self, None, max)


def maximum(self, other):
    return elementwise.maximum(self, other)


def minimum(self, other):
    return elementwise.minimum(self, other)


def where(self, condition, other):
    """`pg.where(condition, self, other)`, as PyTorch's Tensor.where."""
    return elementwise.where(condition, self, other)


def copysign(self, other):
    return elementwise.copysign(self, other)


def resolve_conj(self):
    return self  # real tensors only: nothing to resolve


METHODS = {
    "clone": clone,
    "masked_fill": elementwise.masked_fill,
    "__add__": elementwise.add,
    "__radd__": reflected(elementwise.add),
    "__sub__": elementwise.sub,
    "__rsub__": reflected(elementwise.sub),
    "__mul__": elementwise.mul,
    "__rmul__": reflected(elementwise.mul),
    "__truediv__": elementwise.div,
    "__rtruediv__": reflected(elementwise.div),
    "__floordiv__": elementwise.floor_divide,
    "__rfloordiv__": reflected(elementwise.floor_divide),
    "__mod__": elementwise.remainder,
    "__rmod__": reflected(elementwise.remainder),
    "__pow__": elementwise.pow,
    "__rpow__": reflected(elementwise.pow),
    "__neg__": elementwise.neg,
    "__pos__": __pos__,
    "__abs__": elementwise.abs,
    "add": add,
    "subtract": sub,
    "mul": mul,
    "divide": div,
    "true_divide": true_divide,
    "remainder": remainder,
    "floor_divide": floor_divide,
    "pow": pow,
    "neg": elementwise.neg,
    "positive": positive,
    "abs": elementwise.abs,
    "exp": elementwise.exp,
    "log": elementwise.log,
    "log1p": elementwise.log1p,
    "log2": elementwise.log2,
    "log10": elementwise.log10,
    "expm1": elementwise.expm1,
    "tan": elementwise.tan,
    "reciprocal": elementwise.reciprocal,
    "sqrt": elementwise.sqrt,
    "sin": elementwise.sin,
    "cos": elementwise.cos,
    "tanh": elementwise.tanh,
    "sigmoid": elementwise.sigmoid,
    "relu": elementwise.relu,
    "erf": elementwise.erf,
    "erfc": elementwise.erfc,
    "erfinv": special.erfinv,
    "lgamma": special.lgamma,
    "digamma": special.digamma,
    "polygamma": polygamma,
    "asin": elementwise.asin,
    "acos": elementwise.acos,
    "atan": elementwise.atan,
    "atan2": elementwise.atan2,
    "sinh": elementwise.sinh,
    "cosh": elementwise.cosh,
    "asinh": elementwise.asinh,
    "acosh": elementwise.acosh,
    "atanh": elementwise.atanh,
    "floor": elementwise.floor,
    "ceil": elementwise.ceil,
    "trunc": elementwise.trunc,
    "round": elementwise.round,
    "frac": elementwise.frac,
    "fmod": elementwise.fmod,
    "hypot": elementwise.hypot,
    "logaddexp": elementwise.logaddexp,
    "logaddexp2": elementwise.logaddexp2,
    "xlogy": elementwise.xlogy,
    "fmax": elementwise.fmax,
    "fmin": elementwise.fmin,
    "nan_to_num": elementwise.nan_to_num,
    "exp2": elementwise.exp2,
    "logit": elementwise.logit,
    "lerp": elementwise.lerp,
    "deg2rad": elementwise.deg2rad,
    "rad2deg": elementwise.rad2deg,
    "float_power": elementwise.float_power,
    "clamp": elementwise.clamp,
    "clamp_min": clamp_min,
    "clamp_max": clamp_max,
    "maximum": maximum,
    "minimum": minimum,
    "where": where,
    "square": elementwise.square,
    "rsqrt": elementwise.rsqrt,
    "sign": elementwise.sign,
    "sinc": elementwise.sinc,
    "copysign": copysign,
    "ldexp": elementwise.ldexp,
    "frexp": elementwise.frexp,
    "resolve_conj": resolve_conj,
    "addcmul": elementwise.addcmul,
    "addcdiv": elementwise.addcdiv,
}

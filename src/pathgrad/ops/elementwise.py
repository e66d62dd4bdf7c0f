"""Elementwise primitives. Binary ones see operands already broadcast to one shape (see
broadcast.py), so every rule returns gradients of its inputs' shapes."""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from pathgrad.errors import IntegerDivisionError, ShapeError, op_context
from pathgrad.ops.broadcast import broadcast_shapes, to
from pathgrad.ops.registry import (
    NUMBER_TYPES,
    as_tensor,
    float_result,
    floating,
    op,
    per_element,
    value,
)

TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
frexp_result = namedtuple("frexp", ["mantissa", "exponent"])


# The four arithmetic ops are the engine's hottest path (every rule uses them too), so they
# write value() out: x if x is a number, else x._data.


@op("add", inputs=2, broadcast=True, rule="dL/dx = dL/dout; dL/dy = dL/dout")
def add(x, y):
    """x + y, broadcast: d/dx = d/dy = 1 (each input's gradient is summed back to its shape).

    >>> pg.add(pg.ones(2, 3), pg.tensor([1.0, 2.0, 3.0]))[0]
    tensor([2., 3., 4.])
    """
    out = (x if type(x) in NUMBER_TYPES else x._data) + (y if type(y) in NUMBER_TYPES else y._data)
    return float_result(out, x, y), _both


def _both(grad):
    return grad, grad


@op("sub", inputs=2, broadcast=True, rule="dL/dx = dL/dout; dL/dy = -dL/dout")
def sub(x, y):
    """x - y, broadcast: d/dx = 1, d/dy = -1."""
    out = (x if type(x) in NUMBER_TYPES else x._data) - (y if type(y) in NUMBER_TYPES else y._data)
    return float_result(out, x, y), (_identity, _negated)


def _identity(grad):
    return grad


def _negated(grad):
    return -grad


@op(
    "mul",
    inputs=2,
    broadcast=True,
    rule="dL/dx = dL/dout * y; dL/dy = dL/dout * x",
)
def mul(x, y):
    """x * y, broadcast: d/dx = y, d/dy = x."""
    out = (x if type(x) in NUMBER_TYPES else x._data) * (y if type(y) in NUMBER_TYPES else y._data)
    # x's formula saves y and y's saves x: the engine keeps only the formulas of inputs that
    # need a gradient, so an input no kept formula reads may change in place later, as PyTorch
    return float_result(out, x, y), (lambda grad, y=y: grad * y, lambda grad, x=x: grad * x)


@op(
    "div",
    inputs=2,
    broadcast=True,
    rule="dL/dx = dL/dout / y; dL/dy = -dL/dout * x / y^2",
)
def div(x, y):
    """x / y, broadcast: d/dx = 1 / y, d/dy = -x / y^2."""
    out = (x if type(x) in NUMBER_TYPES else x._data) / (y if type(y) in NUMBER_TYPES else y._data)
    return float_result(out, x, y), (
        lambda grad, y=y: grad / y,
        lambda grad, x=x, y=y: -grad * x / (y * y),  # d(x/y)/dy = -x / y^2
    )


@op(
    "pow",
    inputs=2,
    broadcast=True,
    saves_out=True,
    rule="dL/dx = dL/dout * y * x^(y - 1); dL/dy = dL/dout * out * log(x)",
)
def pow(x, y):
    """x ** y, broadcast: d/dx = y x^(y-1), d/dy = x^y log x (taken as 0 where x = 0 and
    y >= 0, as PyTorch)."""

    return float_result(_power(value(x), value(y)), x, y), (
        lambda grad, out, x=x, y=y: _pow_grad_base(grad, x, y),
        lambda grad, out, x=x, y=y: _pow_grad_exponent(grad, x, y, out),
    )


def _power(base, exponent):
    """np.power, with PyTorch's shortcuts for the common number exponents of a floating base
    (x * x * x where NumPy's pow takes 40x as long on float32; the same values as PyTorch's)."""
    if type(exponent) in (int, float) and isinstance(base, np.ndarray) and base.dtype.kind == "f":
        if exponent == 3:
            return base * base * base
        if exponent == -2:
            return 1 / (base * base)
        if exponent == -0.5:
            return 1 / np.sqrt(base)
    return np.power(base, exponent)


def _pow_grad_base(grad, x, y):
    # d x^y / dx = y x^(y-1); a zero exponent has zero gradient even at x = 0, as PyTorch
    if type(y) in (int, float):
        return grad * 0.0 if y == 0 else grad * (y * x ** (y - 1))
    return grad * where(y == 0, 0.0, y * x ** (y - 1))


def _pow_grad_exponent(grad, x, y, out):
    # d x^y / dy = x^y log x; taken as 0 where x = 0 and y >= 0, as PyTorch
    if type(x) in (int, float):
        return grad * (out * math.log(x)) if x != 0 else grad * (y * 0.0)
    return grad * where((x == 0) & (y >= 0), 0.0, out * log(x))


@op(
    "maximum",
    inputs=2,
    broadcast=True,
    rule="dL/dx = dL/dout * [x > y]; dL/dy = dL/dout * [y > x] (ties: half each)",
)
def maximum(x, y):
    """Elementwise larger of x and y, broadcast; ties share the gradient, as PyTorch."""
    # ties share the gradient equally; each input loses it only where it is the smaller, so
    # where a NaN makes every comparison false both get it whole, as PyTorch
    out = np.maximum(value(x), value(y))
    dtype = out.dtype
    return out, (
        lambda grad, x=x, y=y: grad * _share(x, y, np.less, dtype),
        lambda grad, x=x, y=y: grad * _share(x, y, np.greater, dtype),
    )


@op(
    "minimum",
    inputs=2,
    broadcast=True,
    rule="dL/dx = dL/dout * [x < y]; dL/dy = dL/dout * [y < x] (ties: half each)",
)
def minimum(x, y):
    """Elementwise smaller of x and y, broadcast; ties share the gradient, as PyTorch."""
    out = np.minimum(value(x), value(y))
    dtype = out.dtype
    return out, (
        lambda grad, x=x, y=y: grad * _share(x, y, np.greater, dtype),
        lambda grad, x=x, y=y: grad * _share(x, y, np.less, dtype),
    )


def _share(x, y, loses, dtype):
    """An input's share of maximum's or minimum's gradient: half where x ties y, none where
    `loses(x, y)`, all of it otherwise."""
    xd, yd = value(x), value(y)
    return np.where(xd == yd, 0.5, np.where(loses(xd, yd), 0.0, 1.0)).astype(dtype, copy=False)


@op(
    "where",
    inputs=3,
    broadcast=True,
    rule="dL/dx = where(condition, dL/dout, 0); dL/dy = where(condition, 0, dL/dout)",
)
def where(condition, x, y):
    """`x` where `condition` holds, else `y`; the gradient goes to the branch that was taken."""
    mask = np.array(value(condition))  # a copy: the rule must see today's mask
    if mask.dtype != bool:
        raise TypeError(
            f"{op_context('where')}: the condition must be boolean (a comparison such as "
            f"x > 0), not {mask.dtype}, as in PyTorch"
        )
    return np.where(mask, value(x), value(y)), (
        None,
        lambda grad: where(mask, grad, 0.0),
        lambda grad: where(mask, 0.0, grad),
    )


@op("clone", rule="dL/dx = dL/dout")
def clone(x):
    """A copy with its own memory; the gradient passes unchanged."""

    def vjp(grad):
        return grad

    return x._data.copy(), vjp


@op("neg", rule="dL/dx = -dL/dout")
def neg(x):
    """-x: d/dx = -1."""

    def vjp(grad):
        return -grad

    return np.negative(x._data), vjp


@op("abs", rule="dL/dx = dL/dout * sign(x)")
def abs(x):
    """|x|: d/dx = sign(x), 0 at 0 and at NaN, as PyTorch."""

    def vjp(grad, x=x):
        # the gradient at 0 (and at NaN) is 0, as PyTorch; through the sign op, so that under
        # create_graph the gradient is itself differentiable (to zeros)
        return grad * sign(x)

    return np.abs(x._data), vjp


@op("exp", saves_out=True, rule="dL/dx = dL/dout * out")
def exp(x):
    """e^x: d/dx = e^x, the output itself (the rule keeps it)."""

    def vjp(grad, out):
        return grad * out

    return np.exp(floating(x)), vjp


@op("log", rule="dL/dx = dL/dout / x")
def log(x):
    """Natural log: d/dx = 1 / x."""

    def vjp(grad, x=x):
        return grad / x

    return np.log(floating(x)), vjp


@op("log1p", rule="dL/dx = dL/dout / (1 + x)")
def log1p(x):
    """log(1 + x), accurate for small x: d/dx = 1 / (1 + x)."""

    def vjp(grad, x=x):
        return grad / (x + 1)

    return np.log1p(floating(x)), vjp


@op("sqrt", saves_out=True, rule="dL/dx = dL/dout / (2 * out)")
def sqrt(x):
    """Square root: d/dx = 1 / (2 sqrt(x)), from the output (the rule keeps it)."""

    def vjp(grad, out):
        return grad / (out * 2)

    return np.sqrt(floating(x)), vjp


@op("sin", rule="dL/dx = dL/dout * cos(x)")
def sin(x):
    """Sine: d/dx = cos x."""

    def vjp(grad, x=x):
        return grad * cos(x)

    return np.sin(floating(x)), vjp


@op("cos", rule="dL/dx = -dL/dout * sin(x)")
def cos(x):
    """Cosine: d/dx = -sin x."""

    def vjp(grad, x=x):
        return grad * -sin(x)

    return np.cos(floating(x)), vjp


@op("tan", saves_out=True, rule="dL/dx = dL/dout * (1 + out^2)")
def tan(x):
    """Tangent: d/dx = 1 + tan^2 x, from the output."""

    def vjp(grad, out):
        return grad * (out * out + 1)

    return np.tan(floating(x)), vjp


@op("expm1", saves_out=True, rule="dL/dx = dL/dout * (out + 1)")
def expm1(x):
    """e^x - 1, accurate for small x: d/dx = e^x = out + 1."""

    def vjp(grad, out):
        return grad * (out + 1)

    return np.expm1(floating(x)), vjp


@op("log2", rule="dL/dx = dL/dout / (x * log(2))")
def log2(x):
    """Base-2 logarithm: d/dx = 1 / (x ln 2)."""

    def vjp(grad, x=x):
        return grad / (x * math.log(2.0))

    return np.log2(floating(x)), vjp


@op("log10", rule="dL/dx = dL/dout / (x * log(10))")
def log10(x):
    """Base-10 logarithm: d/dx = 1 / (x ln 10)."""

    def vjp(grad, x=x):
        return grad / (x * math.log(10.0))

    return np.log10(floating(x)), vjp


@op("reciprocal", saves_out=True, rule="dL/dx = -dL/dout * out^2")
def reciprocal(x):
    """1 / x: d/dx = -1 / x^2 = -out^2."""

    def vjp(grad, out):
        return grad * -(out * out)

    return 1 / x._data, vjp


@op("tanh", saves_out=True, rule="dL/dx = dL/dout * (1 - out^2)")
def tanh(x):
    """Hyperbolic tangent: d/dx = 1 - tanh^2, from the output (tanh_backward)."""

    def vjp(grad, out):
        return tanh_backward(grad, out)

    return np.tanh(floating(x)), vjp


@op(
    "tanh_backward",
    inputs=2,
    rule=(
        "r = grad * (1 - out^2); dL/dgrad = dL/dr * (1 - out^2); dL/dout = -2 * dL/dr * grad * out"
    ),
)
def tanh_backward(grad, out):
    """grad * (1 - out^2), tanh's rule (d tanh = 1 - tanh^2). A primitive for speed: one
    dispatch in every backward instead of three; its own rule keeps higher derivatives."""
    y = out._data
    return grad._data * (1 - y * y), (
        lambda grad2, out=out: tanh_backward(grad2, out),  # d/dgrad = 1 - out^2
        lambda grad2, grad=grad, out=out: grad2 * grad * out * -2.0,  # d/dout = -2 out grad
    )


@op("sigmoid", saves_out=True, rule="dL/dx = dL/dout * out * (1 - out)")
def sigmoid(x):
    """1 / (1 + e^-x), never overflowing: d/dx = s (1 - s), from the output s."""

    def vjp(grad, out):
        return sigmoid_backward(grad, out)

    # e^min(x, 0) / (1 + e^-|x|): 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) below; no
    # exponent is positive, so nothing overflows, and no np.where (slow on mixed signs)
    data = x._data
    return np.exp(np.minimum(data, 0)) / (1 + np.exp(-np.abs(data))), vjp


@op(
    "sigmoid_backward",
    inputs=2,
    rule=(
        "r = grad * out * (1 - out); dL/dgrad = dL/dr * out * (1 - out); "
        "dL/dout = dL/dr * grad * (1 - 2 * out)"
    ),
)
def sigmoid_backward(grad, out):
    """grad * out * (1 - out), sigmoid's rule (d sigmoid = sigmoid (1 - sigmoid)). A primitive
    for speed, as tanh_backward."""
    y = out._data
    return grad._data * (y * (1 - y)), (
        lambda grad2, out=out: sigmoid_backward(grad2, out),  # d/dgrad = out (1 - out)
        lambda grad2, grad=grad, out=out: grad2 * grad * (1 - out * 2.0),  # grad (1 - 2 out)
    )


@op("relu", saves_out=True, rule="dL/dx = dL/dout * [out > 0]")
def relu(x):
    """max(x, 0): d/dx = 0 where the output is <= 0 (so 0 at 0), else 1, as PyTorch."""

    def vjp(grad, out):
        return relu_backward(grad, out)

    return np.maximum(x._data, 0), vjp


@op(
    "relu_backward",
    inputs=2,
    rule="r = grad * [out > 0]; dL/dgrad = dL/dr * [out > 0]; dL/dout = 0",
)
def relu_backward(grad, out):
    """0 where out <= 0, else grad (the gradient at 0 is 0, as PyTorch): relu's rule, one
    primitive for speed. Piecewise constant in `out`, so `out` gets no gradient."""
    # a NaN output passes the gradient (out <= 0 is false), as PyTorch's threshold_backward
    blocked = out._data <= 0
    return _zero_where(blocked, grad._data), (
        lambda grad2, out=out: relu_backward(grad2, out),
        None,
    )


def _zero_where(blocked, grad):
    """0 where `blocked`, else grad: a product with the mask (np.where is 7x slower on a mask
    of mixed signs), unless grad holds an inf or NaN, which 0 times would turn into NaN."""
    if np.isfinite(grad).all():
        return grad * ~blocked
    return np.where(blocked, 0, grad).astype(grad.dtype, copy=False)


@op("erf", rule="dL/dx = dL/dout * 2 / sqrt(pi) * exp(-x^2)")
def erf(x):
    """The error function, exact to double precision (math.erf per element)."""

    def vjp(grad, x=x):
        # d erf = 2 / sqrt(pi) exp(-x^2)
        return grad * (exp(-(x * x)) * TWO_OVER_SQRT_PI)

    data = x._data
    # through a list of floats: 1.5x faster than np.frompyfunc's object array
    return per_element(math.erf, data).astype(data.dtype, copy=False), vjp


def clamp(x, min=None, max=None):
    """Limit to [min, max]: min(max(x, min), max), so crossed bounds give max, as PyTorch. The
    bounds are numbers or tensors (broadcast). At a bound the gradient passes to x; a tensor
    bound gets it where x is beyond it (PyTorch's rule), and NaN passes none."""
    if min is None and max is None:
        raise ValueError(f"{op_context('clamp')}: give at least one of min and max")
    for name, bound in (("min", min), ("max", max)):
        if isinstance(bound, (str, bytes)):
            raise TypeError(
                f"{op_context('clamp')}: {name} must be a number or a tensor, got {bound!r}"
            )
    if (min is None or type(min) in NUMBER_TYPES) and (max is None or type(max) in NUMBER_TYPES):
        return clamp_by_numbers(x, min, max)
    # checked here, so a failed broadcast names clamp and the bounds given, not the primitive
    broadcast_shapes("clamp", *(as_tensor(t).shape for t in (x, min, max) if t is not None))
    return clamp_by_tensors(x, -math.inf if min is None else min, math.inf if max is None else max)


@op("clamp", rule="dL/dx = dL/dout * [min <= x <= max]")
def clamp_by_numbers(x, min=None, max=None):
    """`clamp` with number bounds (or None): one mask, no broadcasting."""
    data = x._data
    inside = np.ones(data.shape, dtype=bool)
    if min is not None:
        inside &= data >= min
    if max is not None:
        inside &= data <= max

    def vjp(grad):
        return grad * inside

    return np.clip(data, min, max).astype(data.dtype, copy=False), vjp


@op(
    "clamp_tensor",
    inputs=3,
    broadcast=True,
    rule=(
        "dL/dx = dL/dout * [min <= x <= max]; dL/dmin = dL/dout * [x < min < max]; "
        "dL/dmax = dL/dout * [x > max or max < min]"
    ),
)
def clamp_by_tensors(x, min, max):
    """`clamp` with a tensor bound (a missing one is an infinite number)."""
    out = np.minimum(np.maximum(value(x), value(min)), value(max))
    dtype = out.dtype
    return out, tuple(
        lambda grad, x=x, min=min, max=max, to=to: grad * _clamp_route(x, min, max, to, dtype)
        for to in range(3)
    )


def _clamp_route(x, min, max, to, dtype):
    """Where clamp's gradient goes to input `to` (0: x, 1: min, 2: max): x where it lies within
    both bounds; min where x is below it and min < max; max where x is above it or the bounds
    cross (the result is then max). Where min == max and x is below, neither bound gets it:
    PyTorch's clamp_backward_min_max, kept to the letter."""
    xd, low, high = value(x), value(min), value(max)
    if to == 0:
        return ((xd >= low) & (xd <= high)).astype(dtype)
    if to == 1:
        return ((xd < low) & (low < high)).astype(dtype)
    return ((xd > high) | (low > high)).astype(dtype)


@op(
    "remainder",
    inputs=2,
    broadcast=True,
    rule="dL/dx = dL/dout; dL/dy = -dL/dout * floor(x / y)",
)
def remainder(x, y):
    """x - floor(x / y) * y, with the sign of y: Python's %, PyTorch's remainder."""
    return np.remainder(value(x), _integer_divisor(x, y, "remainder")), (
        _identity,
        lambda grad, x=x, y=y: -grad * floor_divide(x, y),  # d/dy = -floor(x / y)
    )


def _integer_divisor(x, y, name):
    """y's values, refused where integers are divided by zero (NumPy would answer 0)."""
    divisor = value(y)
    integers = np.result_type(value(x), divisor).kind in "iub"
    if integers and np.any(np.asarray(divisor) == 0):
        raise IntegerDivisionError(f"{op_context(name)}: integer division by zero")
    return divisor


@op("floor_divide", inputs=2, broadcast=True, differentiable=False)
def floor_divide(x, y):
    """floor(x / y), as Python's // and PyTorch's floor_divide. Piecewise constant, so not
    differentiable: a plain tensor (PyTorch records it and then refuses its backward)."""
    return np.floor_divide(value(x), _integer_divisor(x, y, "floor_divide")), None


@op("softplus", rule="dL/dx = dL/dout * sigmoid(beta * x) (dL/dout above threshold)")
def softplus(x, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta; linear above `threshold`, as PyTorch.

    A primitive for stability: logaddexp never overflows where the composite would.
    """
    scaled = x._data * beta
    # log(1 + e^z) = max(z, 0) + log1p(e^-|z|): never overflows, 9x faster than np.logaddexp
    stable = (np.maximum(scaled, 0) + np.log1p(np.exp(-np.abs(scaled)))) / beta
    out = np.where(scaled > threshold, x._data, stable)

    def vjp(grad, x=x):
        z = x * beta
        return grad * where(z > threshold, 1.0, sigmoid(z))

    return out.astype(x._data.dtype, copy=False), vjp


def silu(x):
    """x * sigmoid(x), composed."""
    return x * sigmoid(x)


def gelu(x, approximate: str = "none"):
    """x * Phi(x) with the exact erf (PyTorch's default) or its tanh approximation."""
    x = as_tensor(x)
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * math.sqrt(2.0 / math.pi)
        return x * (tanh(inner) + 1) * 0.5
    if approximate != "none":
        raise ValueError(
            f"{op_context('gelu')}: approximate must be 'none' or 'tanh', not {approximate!r}"
        )
    return x * (erf(x * (1 / math.sqrt(2.0))) + 1) * 0.5


def square(x):
    """x * x, composed."""
    return x * x


def rsqrt(x):
    """1 / sqrt(x), composed."""
    return 1 / sqrt(x)


@op("sign", rule="dL/dx = 0")
def sign(x):
    """-1, 0 or 1 per element (0 for NaN, as PyTorch); the gradient is zero, and recorded, as
    PyTorch's, so a rule built on it (abs's) differentiates again to zeros."""
    return sign_of(x._data), _zero_gradient


def sign_of(data):
    """np.sign with PyTorch's answer for NaN, 0 (NumPy's is NaN)."""
    signs = np.sign(data)
    return np.where(np.isnan(signs), 0, signs) if signs.dtype.kind == "f" else signs


# Inverse trigonometric and hyperbolic functions: each rule is the textbook derivative.


@op("asin", rule="dL/dx = dL/dout / sqrt(1 - x^2)")
def asin(x):
    """Inverse sine on [-1, 1]: d/dx = 1 / sqrt(1 - x^2)."""

    def vjp(grad, x=x):
        return grad / sqrt(1 - x * x)

    return np.arcsin(floating(x)), vjp


@op("acos", rule="dL/dx = -dL/dout / sqrt(1 - x^2)")
def acos(x):
    """Inverse cosine on [-1, 1]: d/dx = -1 / sqrt(1 - x^2)."""

    def vjp(grad, x=x):
        return -grad / sqrt(1 - x * x)

    return np.arccos(floating(x)), vjp


@op("atan", rule="dL/dx = dL/dout / (1 + x^2)")
def atan(x):
    """Inverse tangent: d/dx = 1 / (1 + x^2)."""

    def vjp(grad, x=x):
        return grad / (x * x + 1)

    return np.arctan(floating(x)), vjp


@op(
    "atan2",
    inputs=2,
    broadcast=True,
    rule="dL/dy = dL/dout * x / (x^2 + y^2); dL/dx = -dL/dout * y / (x^2 + y^2)",
)
def atan2(y, x):
    """The angle of the point (x, y), broadcast: d/dy = x / (x^2 + y^2),
    d/dx = -y / (x^2 + y^2)."""
    return np.arctan2(value(y), value(x)), (
        lambda grad, x=x, y=y: _over_squared_radius(grad, x, y) * x,
        lambda grad, x=x, y=y: -(_over_squared_radius(grad, x, y) * y),
    )


def _over_squared_radius(grad, x, y):
    """grad / (x^2 + y^2); at the origin both of atan2's derivatives are 0/0, taken as 0, as
    PyTorch."""
    squared = x * x + y * y
    origin = as_tensor(squared)._data == 0
    return where(origin, 0.0, grad / where(origin, 1.0, squared))


@op("sinh", rule="dL/dx = dL/dout * cosh(x)")
def sinh(x):
    """Hyperbolic sine: d/dx = cosh x."""

    def vjp(grad, x=x):
        return grad * cosh(x)

    return np.sinh(floating(x)), vjp


@op("cosh", rule="dL/dx = dL/dout * sinh(x)")
def cosh(x):
    """Hyperbolic cosine: d/dx = sinh x."""

    def vjp(grad, x=x):
        return grad * sinh(x)

    return np.cosh(floating(x)), vjp


@op("asinh", rule="dL/dx = dL/dout / sqrt(x^2 + 1)")
def asinh(x):
    """Inverse hyperbolic sine: d/dx = 1 / sqrt(x^2 + 1)."""

    def vjp(grad, x=x):
        return grad / sqrt(x * x + 1)

    return np.arcsinh(floating(x)), vjp


@op("acosh", rule="dL/dx = dL/dout / sqrt(x^2 - 1)")
def acosh(x):
    """Inverse hyperbolic cosine on [1, inf): d/dx = 1 / sqrt(x^2 - 1)."""

    def vjp(grad, x=x):
        return grad / sqrt(x * x - 1)

    return np.arccosh(floating(x)), vjp


@op("atanh", rule="dL/dx = dL/dout / (1 - x^2)")
def atanh(x):
    """Inverse hyperbolic tangent on (-1, 1): d/dx = 1 / (1 - x^2)."""

    def vjp(grad, x=x):
        return grad / (1 - x * x)

    return np.arctanh(floating(x)), vjp


# Rounding: piecewise constant, so the gradient is zero (PyTorch records them and sends zeros,
# so a leaf's .grad is zeros, not None).


def _zero_gradient(grad):
    return as_tensor(np.zeros_like(grad._data))


@op("floor", rule="dL/dx = 0")
def floor(x):
    """The largest integer <= x; the gradient is zero."""
    return np.floor(x._data), _zero_gradient


@op("ceil", rule="dL/dx = 0")
def ceil(x):
    """The smallest integer >= x; the gradient is zero."""
    return np.ceil(x._data), _zero_gradient


@op("trunc", rule="dL/dx = 0")
def trunc(x):
    """x rounded toward zero; the gradient is zero."""
    return np.trunc(x._data), _zero_gradient


@op("round", rule="dL/dx = 0")
def round(x, decimals=0):
    """x rounded to `decimals` places, halves to even (as PyTorch and NumPy); zero gradient."""
    return np.round(x._data, decimals), _zero_gradient


def frac(x):
    """x - trunc(x), with x's sign: d/dx = 1."""
    return x - trunc(x)


# Functions of two tensors, and stable compositions PyTorch offers as one call.


@op(
    "fmod",
    inputs=2,
    broadcast=True,
    rule="dL/dx = dL/dout; dL/dy = -dL/dout * trunc(x / y)",
)
def fmod(x, y):
    """x - trunc(x / y) * y, with the sign of x (C's fmod): d/dx = 1, d/dy = -trunc(x / y)."""
    return np.fmod(value(x), _integer_divisor(x, y, "fmod")), (
        _identity,
        lambda grad, x=x, y=y: -grad * trunc(x / y),
    )


@op(
    "hypot",
    inputs=2,
    broadcast=True,
    saves_out=True,
    rule="dL/dx = dL/dout * x / out; dL/dy = dL/dout * y / out",
)
def hypot(x, y):
    """sqrt(x^2 + y^2) without overflow: d/dx = x / out, d/dy = y / out."""
    return np.hypot(value(x), value(y)), (
        lambda grad, out, x=x: grad * x / out,
        lambda grad, out, y=y: grad * y / out,
    )


@op(
    "logaddexp",
    inputs=2,
    broadcast=True,
    rule="dL/dx = dL/dout * sigmoid(x - y); dL/dy = dL/dout * sigmoid(y - x)",
)
def logaddexp(x, y):
    """log(e^x + e^y) without overflow: d/dx = e^x / (e^x + e^y) = sigmoid(x - y), which
    stays finite (and warns of no overflow) however far apart x and y are."""
    return np.logaddexp(value(x), value(y)), (
        lambda grad, x=x, y=y: grad * sigmoid(x - y),
        lambda grad, x=x, y=y: grad * sigmoid(y - x),
    )


@op(
    "logaddexp2",
    inputs=2,
    broadcast=True,
    rule="dL/dx = dL/dout * 2^(x - out); dL/dy = dL/dout * 2^(y - out)",
)
def logaddexp2(x, y):
    """log2(2^x + 2^y) without overflow: d/dx = 1 / (1 + 2^(y - x))."""
    return np.logaddexp2(value(x), value(y)), (
        lambda grad, x=x, y=y: grad / (pow(2.0, y - x) + 1),
        lambda grad, x=x, y=y: grad / (pow(2.0, x - y) + 1),
    )


@op(
    "xlogy",
    inputs=2,
    broadcast=True,
    rule="dL/dx = dL/dout * log(y); dL/dy = dL/dout * x / y",
)
def xlogy(x, y):
    """x log(y), and 0 where x is 0 (even where y is 0), NaN where y is NaN, as PyTorch:
    d/dx = log(y), taken as 0 where x is 0 and y <= 0 (the log is not finite there; PyTorch's
    choice), d/dy = x / y. A primitive: as a `where` the infinite log(0) would poison the
    gradient of y."""
    xd, yd = value(x), value(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(xd == 0, 0, xd * np.log(yd))
    out = np.where(np.isnan(yd), yd, out)
    return out.astype(np.result_type(xd, yd), copy=False), (
        # xlogy(grad, y), not grad * log(y): a zero gradient stays zero where log(y) is -inf
        lambda grad, x=x, y=y: where((value(x) == 0) & (value(y) <= 0), 0.0, xlogy(grad, y)),
        lambda grad, x=x, y=y: grad * x / y,
    )


@op(
    "fmax",
    inputs=2,
    broadcast=True,
    rule="dL/dx = dL/dout * [x >= y or y is NaN]; dL/dy = dL/dout * [y > x or x is NaN]",
)
def fmax(x, y):
    """The larger of x and y, ignoring a NaN (NumPy's and PyTorch's fmax): x gets the gradient
    where x >= y or y is NaN, y where it won alone (ties go to x, as PyTorch)."""
    return np.fmax(value(x), value(y)), (
        lambda grad, x=x, y=y: grad * _to_x(x, y, np.greater_equal),
        lambda grad, x=x, y=y: grad * ~_to_x(x, y, np.greater_equal),
    )


@op(
    "fmin",
    inputs=2,
    broadcast=True,
    rule="dL/dx = dL/dout * [x <= y or y is NaN]; dL/dy = dL/dout * [y < x or x is NaN]",
)
def fmin(x, y):
    """The smaller of x and y, ignoring a NaN: x gets the gradient where x <= y or y is NaN."""
    return np.fmin(value(x), value(y)), (
        lambda grad, x=x, y=y: grad * _to_x(x, y, np.less_equal),
        lambda grad, x=x, y=y: grad * ~_to_x(x, y, np.less_equal),
    )


def _to_x(x, y, wins):
    """Where fmax's or fmin's gradient goes to x: where `wins(x, y)` or y is NaN."""
    xd, yd = value(x), value(y)
    return wins(xd, yd) | np.isnan(yd)


@op("erfc", rule="dL/dx = -dL/dout * 2 / sqrt(pi) * exp(-x^2)")
def erfc(x):
    """1 - erf(x), accurate where erf is near 1 (math.erfc per element):
    d/dx = -2 / sqrt(pi) e^(-x^2)."""

    def vjp(grad, x=x):
        return grad * (exp(-(x * x)) * -TWO_OVER_SQRT_PI)

    data = x._data
    return per_element(math.erfc, data).astype(data.dtype, copy=False), vjp


@op("nan_to_num", rule="dL/dx = dL/dout * [x is finite]")
def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """NaN, +inf and -inf replaced by numbers (by default 0 and the dtype's largest and
    smallest finite values); the gradient passes where x was finite, as PyTorch."""
    data = x._data
    finite = np.isfinite(data)  # taken now: a later in-place change of x must not move it

    def vjp(grad):
        return grad * finite

    return np.nan_to_num(data, nan=nan, posinf=posinf, neginf=neginf), vjp


def exp2(x):
    """2^x, composed."""
    return pow(2.0, x)


def logit(x, eps=None):
    """log(x / (1 - x)); with `eps`, x is first clamped to [eps, 1 - eps], as PyTorch."""
    if eps is not None:
        x = clamp(x, eps, 1 - eps)
        return log(x / (1 - x))
    return logit_unclamped(x)


@op("logit", rule="dL/dx = dL/dout / (x * (1 - x))")
def logit_unclamped(x):
    """log(x / (1 - x)): d/dx = 1 / (x (1 - x)), infinite at 0 and 1 and NaN outside [0, 1],
    as PyTorch's (the composite's chain rule gave NaN at 0 and 1 and numbers outside)."""
    data = x._data
    outside = (data < 0) | (data > 1)

    def vjp(grad, x=x):
        rule = grad / (x * (1 - x))
        return where(outside, math.nan, rule) if outside.any() else rule

    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(data / (1 - data)), vjp


def lerp(start, end, weight):
    """start + weight * (end - start), broadcast; weight a number or a tensor."""
    return start + weight * (end - start)


def deg2rad(x):
    """Degrees to radians, composed."""
    return x * (math.pi / 180.0)


def rad2deg(x):
    """Radians to degrees, composed."""
    return x * (180.0 / math.pi)


def float_power(x, y):
    """x ** y computed in float64, as PyTorch's float_power."""
    return pow(_in_float64(x), _in_float64(y))


def _in_float64(x):
    if type(x) in NUMBER_TYPES:
        return float(x)
    x = as_tensor(x)
    return x if x._data.dtype == np.float64 else to(x, np.float64)


def subtract(x, y, *, alpha=1):
    """x - alpha * y, as PyTorch's subtract."""
    return sub(x, y if alpha == 1 else y * alpha)


def divide(x, y, *, rounding_mode=None):
    """x / y, or rounded toward zero ("trunc") or down ("floor"), as PyTorch's div; a rounded
    quotient has zero gradient, and integer operands keep an integer result."""
    if rounding_mode is None:
        return div(x, y)
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(
            f"{op_context('div')}: rounding_mode must be None, 'trunc' or 'floor', not "
            f"{rounding_mode!r}"
        )
    x_data, y_data = (t if type(t) in NUMBER_TYPES else as_tensor(t)._data for t in (x, y))
    if np.result_type(x_data, y_data).kind in "iub":
        # integers: not differentiable, and exact where a float quotient would round
        broadcast_shapes("div", np.shape(x_data), np.shape(y_data))
        whole = np.floor_divide(x_data, y_data)
        if rounding_mode == "trunc":  # one above the floor where a negative quotient was cut
            whole = whole + ((whole < 0) & (whole * y_data != x_data))
        return as_tensor(whole)
    return (trunc if rounding_mode == "trunc" else floor)(div(x, y))


def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2, broadcast."""
    product = mul(tensor1, tensor2)
    return add(input, product if value == 1 else mul(product, value))


def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2, broadcast."""
    quotient = div(tensor1, tensor2)
    return add(input, quotient if value == 1 else mul(quotient, value))


def sinc(x):
    """sin(pi x) / (pi x), 1 at 0 (its derivative there is 0), composed with a safe
    denominator so the masked branch sends no NaN back."""
    x = as_tensor(x)
    zero = x._data == 0
    safe = where(zero, 1.0, x) * math.pi
    return where(zero, 1.0, sin(safe) / safe)


def masked_fill(x, mask, value):
    """x with `value` where `mask` holds (broadcast); the filled places get no gradient."""
    x, mask = as_tensor(x), as_tensor(mask)
    broadcast_shapes("masked_fill", mask.shape, x.shape)  # a bigger mask widens the result
    return where(mask, value, x)


def check_mask(x, mask, name: str) -> None:
    """A mask (or copy_'s source) broadcasts to the tensor's own shape, never the other way,
    or a ShapeError naming `name`."""
    if broadcast_shapes(name, mask.shape, x.shape) != x.shape:
        raise ShapeError(
            f"{op_context(name)}: a tensor of shape {mask.shape} does not broadcast to the "
            f"tensor's shape {x.shape}"
        )


@op(
    "copysign",
    inputs=2,
    broadcast=True,
    rule="dL/dx = dL/dout * sign(x) * sign(out); dL/dy = 0",
)
def copysign(x, y):
    """|x| with the sign of y (its sign bit: -0.0 counts as negative): d/dx = out / x, taken as
    0 at x = 0, and y gets a zero gradient, as PyTorch."""
    xd, yd = value(x), value(y)
    out = np.copysign(xd, yd)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(xd == 0, 0.0, out / np.where(xd == 0, 1.0, xd)).astype(out.dtype)

    # the ratio is made from the forward's values, so the formula saves no input
    return out, (lambda grad: grad * ratio, lambda grad: as_tensor(np.zeros_like(grad._data)))


def ldexp(x, other):
    """x * 2 ** other (other an integer tensor or number), in x's floating dtype."""
    x = as_tensor(x)
    scale = np.ldexp(
        1.0, np.asarray(value(other) if type(other) in NUMBER_TYPES else as_tensor(other)._data)
    )
    dtype = x._data.dtype if x._data.dtype.kind == "f" else np.float32
    return mul(x, as_tensor(np.asarray(scale, dtype=dtype)))


def frexp(x):
    """(mantissa, exponent) with x = mantissa * 2 ** exponent, |mantissa| in [0.5, 1): plain
    tensors (exponent int32), as PyTorch."""
    mantissa, exponent = np.frexp(as_tensor(x)._data)
    return frexp_result(as_tensor(mantissa), as_tensor(exponent.astype(np.int32)))


def rsub(x, y, *, alpha=1):
    """y - alpha * x, PyTorch's reversed subtraction."""
    return sub(y, x if alpha == 1 else mul(x, alpha))

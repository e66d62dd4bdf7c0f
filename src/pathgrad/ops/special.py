"""Special functions NumPy lacks: lgamma, digamma, polygamma and erfinv, computed in float64
to double precision, each rule the next function of the family (d lgamma = digamma,
d digamma = trigamma = polygamma(1), ...), so they differentiate to any order."""

from __future__ import annotations

import math

import numpy as np

from pathgrad.errors import op_context
from pathgrad.ops.elementwise import exp
from pathgrad.ops.registry import op, per_element

SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2

# B_2k for k = 1 .. 8: the asymptotic series of the polygamma functions
BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)


def _float64(x):
    return np.asarray(x._data, dtype=np.float64)


def _like(values, x):
    return values.astype(x._data.dtype if x._data.dtype.kind == "f" else np.float64, copy=False)


def _poles(values):
    return (values <= 0) & (values == np.floor(values))


@op("lgamma", rule="dL/dx = dL/dout * digamma(x)")
def lgamma(x):
    """log |Gamma(x)| (inf at 0 and the negative integers, as PyTorch): d/dx = digamma(x)."""

    def vjp(grad, x=x):
        return grad * digamma(x)

    values = _float64(x)
    # poles, infinities, and magnitudes whose log Gamma overflows (math.lgamma would raise)
    poles = _poles(values) | (np.abs(values) > 2.5e305)
    finite = np.where(poles, 1.0, values)
    with np.errstate(invalid="ignore"):
        out = per_element(math.lgamma, finite)
    out = np.where(poles, np.inf, out)
    return _like(np.where(np.isnan(values), np.nan, out), x), vjp


@op("digamma", rule="dL/dx = dL/dout * polygamma(1, x)")
def digamma(x):
    """d/dx log Gamma(x) (-inf at 0, NaN at the negative integers, as PyTorch):
    d/dx = polygamma(1, x)."""

    def vjp(grad, x=x):
        return grad * polygamma(1, x)

    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):  # poles: infinities
        return _like(digamma_values(_float64(x)), x), vjp


def digamma_values(values):
    """psi(x): reflected below 1/2 (psi(x) = psi(1 - x) - pi / tan(pi x)), shifted up to 10 by
    psi(y) = psi(y + 1) - 1/y, then the asymptotic series, good to ~1e-16 there."""
    reflect = values < 0.5
    y = np.where(reflect, 1 - values, values)
    y = np.where(np.isfinite(y), y, 10.0)
    total = np.zeros_like(y)
    while True:
        small = y < 10
        if not small.any():
            break
        total -= np.where(small, 1 / y, 0.0)
        y = np.where(small, y + 1, y)
    inverse_square = 1 / (y * y)
    series = sum(b / (2 * k) * inverse_square**k for k, b in enumerate(BERNOULLI, start=1))
    total += np.log(y) - 0.5 / y - series
    with np.errstate(divide="ignore", invalid="ignore"):
        near = values - np.round(values)  # tan has period 1: keep its argument small
        total = np.where(reflect, total - np.pi / np.tan(np.pi * near), total)
    total = np.where(_poles(values), np.nan, total)
    total = np.where(values == 0, -np.inf, total)
    total = np.where(values == np.inf, np.inf, total)
    return np.where(np.isnan(values) | (values == -np.inf), np.nan, total)


@op("polygamma", rule="dL/dx = dL/dout * polygamma(n + 1, x)")
def polygamma_of(x, n):
    """The n-th derivative of digamma (n >= 1), x first as the registry reads inputs:
    d/dx = polygamma(n + 1, x)."""

    def vjp(grad, x=x):
        return grad * polygamma(n + 1, x)

    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):  # poles: infinities
        return _like(polygamma_values(n, _float64(x)), x), vjp


def polygamma(n, x):
    """The n-th derivative of digamma: polygamma(0, x) is digamma(x), polygamma(1, x) the
    trigamma function, ... (PyTorch's argument order)."""
    if isinstance(n, np.integer):
        n = int(n)
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"{op_context('polygamma')}: n must be an integer >= 0, got {n!r}")
    if n == 0:
        return digamma(x)
    return polygamma_of(x, n)


def polygamma_values(n, values):
    """(-1)^(n+1) n! sum_k 1/(x + k)^(n+1): below -40 by the reflection formula
    psi_n(1 - x) + (-1)^(n+1) psi_n(x) = (-1)^n pi d^n/dx^n cot(pi x); else shifted up by
    psi_n(y) = psi_n(y + 1) + (-1)^(n+1) n! / y^(n+1), then the asymptotic series."""
    sign = -1.0 if n % 2 == 0 else 1.0  # (-1)^(n+1)
    reflect = values < -40  # nearer 0 the shift costs few steps and cancels less than cot
    y = np.where(reflect, 1 - values, values)
    y = np.where(np.isfinite(y) & ~_poles(values), y, 20.0 + n)
    factorial = math.factorial(n)
    total = np.zeros_like(y)
    floor = 20.0 + n
    while True:
        small = y < floor
        if not small.any():
            break
        total += np.where(small, sign * factorial / y ** (n + 1), 0.0)
        y = np.where(small, y + 1, y)
    series = math.factorial(n - 1) / y**n + factorial / (2 * y ** (n + 1))
    for k, b in enumerate(BERNOULLI, start=1):
        coefficient = b * math.factorial(2 * k + n - 1) / math.factorial(2 * k)
        series = series + coefficient / y ** (2 * k + n)
    total += sign * series
    if reflect.any():
        with np.errstate(divide="ignore", invalid="ignore"):
            cot = 1 / np.tan(np.pi * (values - np.round(values)))
        derivative = np.polynomial.Polynomial([0.0, 1.0])  # cot, as a polynomial in cot
        for _ in range(n):  # d/dx cot(pi x) = -pi (1 + cot^2)
            derivative = -math.pi * np.polynomial.Polynomial([1.0, 0.0, 1.0]) * derivative.deriv()
        reflected = sign * ((-sign) * math.pi * derivative(cot) - total)
        total = np.where(reflect, reflected, total)
    total = np.where(_poles(values), sign * np.inf, total)
    total = np.where(values == np.inf, 0.0, total)
    return np.where(np.isnan(values) | (values == -np.inf), np.nan, total)


@op("erfinv", saves_out=True, rule="dL/dx = dL/dout * sqrt(pi) / 2 * exp(out^2)")
def erfinv(x):
    """The inverse of erf on (-1, 1) (+-inf at +-1, NaN outside, as PyTorch):
    d/dx = sqrt(pi)/2 e^(out^2)."""

    def vjp(grad, out):
        return grad * (exp(out * out) * SQRT_PI_OVER_2)

    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):  # +-1: infinities
        return _like(erfinv_values(_float64(x)), x), vjp


def erfinv_values(values):
    """Giles' approximation (2010), polished by Newton steps: on erf(x) = y near 0, and
    on log erfc(x) = log(1 - y) toward +-1, where 1 - y is exact and erf's own rounding would
    cost digits."""
    inside = np.abs(values) < 1
    size = np.where(inside, np.abs(values), 0.0)
    w = -np.log((1 - size) * (1 + size))
    central = w - 2.5
    p = 2.81022636e-08
    for c in (
        3.43273939e-07,
        -3.5233877e-06,
        -4.39150654e-06,
        0.00021858087,
        -0.00125372503,
        -0.00417768164,
        0.246640727,
        1.50140941,
    ):
        p = c + p * central
    tail = np.sqrt(w) - 3
    q = -0.000200214257
    for c in (
        0.000100950558,
        0.00134934322,
        -0.00367342844,
        0.00573950773,
        -0.0076224613,
        0.00943887047,
        1.00167406,
        2.83297682,
    ):
        q = c + q * tail
    guess = np.where(w < 5, p, q) * size
    near_one = size > 0.5
    for _ in range(6):  # two or three steps reach double precision; the tail's guess is rougher
        erf, erfc = per_element(math.erf, guess), per_element(math.erfc, guess)
        slope = 2 / math.sqrt(math.pi) * np.exp(-guess * guess)
        with np.errstate(divide="ignore", invalid="ignore"):
            # toward 1, Newton on log erfc, nearly linear in x where erfc itself is steep
            step_near_one = (np.log(1 - size) - np.log(erfc)) * erfc / slope
        step = np.where(near_one, step_near_one, (erf - size) / slope)
        step = np.where(inside, step, 0.0)
        guess = guess - step
        if np.all(np.abs(step) <= 1e-16 * np.abs(guess)):
            break
    out = np.copysign(guess, values)
    out = np.where(values == 1, np.inf, np.where(values == -1, -np.inf, out))
    return np.where(inside | (np.abs(values) == 1), out, np.nan)

"""Run an op's own forward on arrays of SymPy expressions, each carrying its value.

NumPy's object-dtype loops call a method named after the ufunc (np.tanh calls `x.tanh()`), so
an array of `Dual`s goes through the same forward code the engine runs: `+`, `@`, reductions
and indexing build the expression, and each element keeps its float64 value beside it.
Comparisons read the values, so a piecewise op (relu, max, clamp, abs) takes the branch its
point lies on, which is the derivative autodiff computes there.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

INSTALL_HINT = "pip install 'pathgrad[explain]' (or: pip install sympy)"

sympy: Any = None  # imported on first use: `import pathgrad` needs NumPy alone


def require_sympy() -> Any:
    """SymPy, or an ImportError that says how to install it."""
    global sympy
    if sympy is None:
        try:
            import sympy as module
        except ImportError:
            raise ImportError(
                f"pathgrad.explain needs SymPy for its symbolic algebra: {INSTALL_HINT}"
            ) from None
        sympy = module
    return sympy


def _unwrap(other: Any) -> tuple[Any, float]:
    if isinstance(other, Dual):
        return other.expr, other.value
    if isinstance(other, (bool, np.bool_)):
        other = int(other)
    return constant(other), float(other) if not isinstance(other, complex) else other


def constant(number: Any) -> Any:
    """A number as SymPy sees it: whole numbers exact, so `2*x` prints as `2 x`, not `2.0 x`."""
    number = float(number)
    if math.isfinite(number) and number == int(number):
        return sympy.Integer(int(number))
    return sympy.Float(number, 15) if math.isfinite(number) else sympy.sympify(number)


def _binary(expr_rule, value_rule, swap=False):
    def method(self, other):
        other_expr, other_value = _unwrap(other)
        if swap:
            return Dual(expr_rule(other_expr, self.expr), value_rule(other_value, self.value))
        return Dual(expr_rule(self.expr, other_expr), value_rule(self.value, other_value))

    return method


def _unary(sympy_name: str, numpy_function: Any):
    def method(self):
        return Dual(getattr(sympy, sympy_name)(self.expr), float(numpy_function(self.value)))

    method.__name__ = sympy_name
    return method


class Dual:
    """A SymPy expression with its float value: one element of a symbolic array."""

    __slots__ = ("expr", "value")

    def __init__(self, expr: Any, value: float) -> None:
        self.expr = expr
        self.value = value

    __add__ = _binary(operator.add, operator.add)
    __radd__ = _binary(operator.add, operator.add, swap=True)
    __sub__ = _binary(operator.sub, operator.sub)
    __rsub__ = _binary(operator.sub, operator.sub, swap=True)
    __mul__ = _binary(operator.mul, operator.mul)
    __rmul__ = _binary(operator.mul, operator.mul, swap=True)
    __truediv__ = _binary(operator.truediv, lambda a, b: _divide(a, b))
    __rtruediv__ = _binary(operator.truediv, lambda a, b: _divide(a, b), swap=True)
    __pow__ = _binary(operator.pow, lambda a, b: float(np.power(a, b)))
    __rpow__ = _binary(operator.pow, lambda a, b: float(np.power(a, b)), swap=True)

    def __neg__(self):
        return Dual(-self.expr, -self.value)

    def __pos__(self):
        return self

    def __abs__(self):
        return self if self.value >= 0 else -self

    def _compare(self, other, test):
        return test(self.value, _unwrap(other)[1])

    def __lt__(self, other):
        return self._compare(other, operator.lt)

    def __le__(self, other):
        return self._compare(other, operator.le)

    def __gt__(self, other):
        return self._compare(other, operator.gt)

    def __ge__(self, other):
        return self._compare(other, operator.ge)

    def __eq__(self, other):
        return self._compare(other, operator.eq)

    def __ne__(self, other):
        return self._compare(other, operator.ne)

    __hash__ = None  # type: ignore[assignment]

    def __bool__(self):
        return bool(self.value)

    def __float__(self):
        raise TypeError("a symbolic value has no float: this op's forward leaves exact algebra")

    exp = _unary("exp", np.exp)
    log = _unary("log", np.log)
    sqrt = _unary("sqrt", np.sqrt)
    sin = _unary("sin", np.sin)
    cos = _unary("cos", np.cos)
    tan = _unary("tan", np.tan)
    tanh = _unary("tanh", np.tanh)
    sinh = _unary("sinh", np.sinh)
    cosh = _unary("cosh", np.cosh)
    arcsin = _unary("asin", np.arcsin)
    arccos = _unary("acos", np.arccos)
    arctan = _unary("atan", np.arctan)
    arcsinh = _unary("asinh", np.arcsinh)
    arccosh = _unary("acosh", np.arccosh)
    arctanh = _unary("atanh", np.arctanh)

    def log1p(self):
        return Dual(sympy.log(1 + self.expr), float(np.log1p(self.value)))

    def expm1(self):
        return Dual(sympy.exp(self.expr) - 1, float(np.expm1(self.value)))

    def log2(self):
        return Dual(sympy.log(self.expr, 2), float(np.log2(self.value)))

    def log10(self):
        return Dual(sympy.log(self.expr, 10), float(np.log10(self.value)))

    def conjugate(self):
        return self

    def astype(self, dtype: Any, copy: bool = True) -> Dual:
        return self  # a full reduction's result is one Dual, not an array

    def _piecewise_constant(self, step):
        # floor, ceil, trunc, round: constant between jumps, so their derivative is 0
        number = float(step(self.value))
        return Dual(constant(number), number)

    def __floor__(self):
        return self._piecewise_constant(math.floor)

    def __ceil__(self):
        return self._piecewise_constant(math.ceil)

    def __trunc__(self):
        return self._piecewise_constant(math.trunc)

    def rint(self):
        return self._piecewise_constant(np.rint)

    def __repr__(self) -> str:
        return f"Dual({self.expr}, {self.value})"


def _divide(a: float, b: float) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(a) / np.float64(b))


def symbols(name: str, values: np.ndarray) -> np.ndarray:
    """An object array of Duals named like the seed: `a_11`, `a_12` (1-based), `c_1`, `s`."""
    require_sympy()
    out = np.empty(values.shape, dtype=object)
    for index in np.ndindex(*values.shape):
        label = name + ("_" + "".join(str(i + 1) for i in index) if index else "")
        if values.ndim and max(values.shape) > 9:  # a_1,10 stays readable past nine
            label = name + "_" + ",".join(str(i + 1) for i in index)
        out[index] = Dual(sympy.Symbol(label), float(values[index]))
    return out


def constants(values: np.ndarray) -> np.ndarray:
    require_sympy()
    out = np.empty(values.shape, dtype=object)
    for index in np.ndindex(*values.shape):
        out[index] = Dual(constant(values[index]), float(values[index]))
    return out


def dual(item: Any) -> Dual:
    """An element of a symbolic array as a Dual (forwards leave plain 0s from np.zeros)."""
    return item if isinstance(item, Dual) else Dual(constant(item), float(item))


def _expr(item: Any) -> Any:
    return item if isinstance(item, sympy.Basic) else dual(item).expr


def expressions(array: Any) -> np.ndarray:
    array = np.asarray(array, dtype=object)
    return np.vectorize(_expr, otypes=[object])(array).reshape(array.shape)


def values(array: Any) -> np.ndarray:
    array = np.asarray(array, dtype=object)
    return np.vectorize(lambda d: dual(d).value, otypes=[np.float64])(array).reshape(array.shape)


class SymbolicTensor:
    """What a forward reads of a tensor (`._data`, the flag), with Duals for data."""

    def __init__(self, data: np.ndarray) -> None:
        self._data = data
        self._requires_grad = True
        self.grad_fn = None

    shape = property(lambda self: self._data.shape)
    ndim = property(lambda self: self._data.ndim)
    dtype = property(lambda self: np.dtype(np.float64))


def _elementwise(function: Any) -> Any:
    return np.vectorize(function, otypes=[object])


def _sympy_function(name: str, *leading: Any) -> Any:
    """Elementwise SymPy function of the expressions (values come from the engine's forward)."""
    return _elementwise(lambda d: getattr(sympy, name)(*leading, dual(d).expr))


def _by_value(choose: Any) -> Any:
    return _elementwise(lambda *items: choose(*[dual(i) for i in items]))


def _dims(dim: Any, ndim: int, name: str) -> tuple[int, ...]:
    from pathgrad.ops.registry import normalize_dims

    return normalize_dims(dim, ndim, name)


def _log_sum_exp(x: np.ndarray, dims: tuple, keepdim: bool) -> np.ndarray:
    return np.log(np.exp(x).sum(axis=dims, keepdims=keepdim))


def _per_matrix(build: Any) -> Any:
    """A SymPy Matrix function over the last two dims, one batch element at a time."""

    def apply(*arrays):
        batch = arrays[0].shape[:-2]
        results = []
        for index in np.ndindex(*batch):
            matrices = [sympy.Matrix(expressions(a[index])) for a in arrays]
            points = [values(a[index]) for a in arrays]
            results.append(np.array(build(*matrices, points), dtype=object))
        return np.array(results, dtype=object).reshape(batch + results[0].shape)

    return apply


def _log_abs_det(A, points):
    # log|det A|: the sign of det is constant near the point, so it is a factor of +-1
    sign = int(np.sign(np.linalg.det(points[0])))
    return [sympy.log(sign * A.det())]


def _override_table() -> dict:
    return {
        "sigmoid": lambda x: 1 / (1 + np.exp(-x._data)),
        "softmax": lambda x, dim: _softmax(x._data, _dims(dim, x.ndim, "softmax")),
        "log_softmax": lambda x, dim: (
            x._data - _log_sum_exp(x._data, _dims(dim, x.ndim, "log_softmax"), True)
        ),
        "logsumexp": lambda x, dim, keepdim=False: _log_sum_exp(
            x._data, _dims(dim, x.ndim, "logsumexp"), keepdim
        ),
        "cross_entropy_loss": _cross_entropy,
        "logcumsumexp": lambda x, dim: np.log(np.cumsum(np.exp(x._data), axis=dim)),
        "max": lambda x: np.array(max(x._data.reshape(-1), key=lambda d: dual(d).value)),
        "min": lambda x: np.array(min(x._data.reshape(-1), key=lambda d: dual(d).value)),
        "nansum": lambda x, dim=None, keepdim=False: np.where(
            np.vectorize(lambda d: np.isnan(dual(d).value), otypes=[bool])(x._data), 0, x._data
        ).sum(axis=_dims(dim, x.ndim, "nansum"), keepdims=keepdim),
        "logaddexp": lambda x, y: np.log(np.exp(_data(x)) + np.exp(_data(y))),
        "logaddexp2": lambda x, y: np.log2(2 ** _data(x) + 2 ** _data(y)),
        "xlogy": lambda x, y: _data(x) * np.log(_data(y)),
        "hypot": lambda x, y: np.sqrt(_data(x) * _data(x) + _data(y) * _data(y)),
        "atan2": lambda y, x: _by_value(_atan2)(_data(y), _data(x)),
        "copysign": lambda x, y: _by_value(_copysign)(_data(x), _data(y)),
        "fmod": lambda x, y: _data(x) - np.trunc(_data(x) / _data(y)) * _data(y),
        "remainder": lambda x, y: _data(x) - np.floor(_data(x) / _data(y)) * _data(y),
        "sign": lambda x: _by_value(_sign)(x._data),
        "round": lambda x, decimals=0: _by_value(_round(decimals))(x._data),
        "erf": lambda x: _sympy_function("erf")(x._data),
        "erfc": lambda x: _sympy_function("erfc")(x._data),
        "erfinv": lambda x: _sympy_function("erfinv")(x._data),
        "lgamma": lambda x: _sympy_function("loggamma")(x._data),
        "digamma": lambda x: _sympy_function("digamma")(x._data),
        "polygamma": lambda x, n: _sympy_function("polygamma", n)(x._data),
        "to": lambda x, dtype: x._data,  # a cast changes no value the algebra sees
        "nan_to_num": lambda x, *args, **kwargs: x._data,  # identity on finite values
        "relu_backward": lambda grad, out: (
            _data(grad) * _elementwise(lambda d: 1 if dual(d).value > 0 else 0)(_data(out))
        ),
        "inv": lambda A: _per_matrix(lambda M, p: M.inv().tolist())(A._data),
        "det": lambda A: _per_matrix(lambda M, p: [M.det()])(A._data).reshape(A.shape[:-2]),
        "logabsdet": lambda A: _per_matrix(_log_abs_det)(A._data).reshape(A.shape[:-2]),
        "solve": lambda A, B: _solve(A, B),
        "cholesky": lambda A: _per_matrix(_cholesky)(A._data),
    }


def _data(x: Any) -> Any:
    return x._data if isinstance(x, SymbolicTensor) else x


def _softmax(x: np.ndarray, dims: tuple) -> np.ndarray:
    e = np.exp(x)
    return e / e.sum(axis=dims, keepdims=True)


def _cross_entropy(x, q, class_dim, denominator, reduction):
    # -sum_c q_c log_softmax(x)_c, without the max shift the forward takes for range
    log_probs = x._data - _log_sum_exp(x._data, (class_dim,), True)
    per_sample = -(_data(q) * log_probs).sum(axis=class_dim)
    out = per_sample if reduction == "none" else np.array(np.asarray(per_sample, object).sum())
    return out / denominator if reduction == "mean" else out


def _atan2(y: Dual, x: Dual) -> Dual:
    return Dual(sympy.atan2(y.expr, x.expr), math.atan2(y.value, x.value))


def _copysign(x: Dual, y: Dual) -> Dual:
    return x if math.copysign(1.0, x.value) == math.copysign(1.0, y.value) else -x


def _sign(x: Dual) -> Dual:
    number = float(np.sign(x.value))
    return Dual(constant(number), number)


def _round(decimals: int) -> Any:
    return lambda x: Dual(constant(np.round(x.value, decimals)), float(np.round(x.value, decimals)))


def _cholesky(M, points):
    # the symmetric part, as the rule reads A: a gradient split evenly between A_ij and A_ji
    return ((M + M.T) / 2).cholesky(hermitian=False).tolist()


def _solve(A: Any, B: Any) -> np.ndarray:
    b = B._data
    vector = b.ndim == A.ndim - 1  # solve(A, b) with b a batch of vectors
    if vector:
        b = b[..., None]

    def build(M, R, points):
        return M.LUsolve(R).tolist()

    out = _per_matrix(build)(A._data, b)
    return out[..., 0] if vector else out


# Ops whose forward leaves what SymPy can differentiate, with the reason. The exact rule check
# lists them; `explain` refuses a graph that passes through one.
NOT_SYMBOLIC = {
    "eigh_values": "the decomposition is LAPACK's, computed outside the op (no closed form)",
    "eigh_vectors": "the decomposition is LAPACK's, computed outside the op (no closed form)",
    "svd_values": "the decomposition is LAPACK's, computed outside the op (no closed form)",
    "svd_left": "the decomposition is LAPACK's, computed outside the op (no closed form)",
    "svd_right": "the decomposition is LAPACK's, computed outside the op (no closed form)",
    "qr_q": "the decomposition is LAPACK's, computed outside the op (no closed form)",
    "qr_r": "the decomposition is LAPACK's, computed outside the op (no closed form)",
    "matrix_exp": "a series SymPy sums only for diagonalisable matrices, and slowly",
}

_OVERRIDES: dict | None = None


def symbolic_forward(definition: Any, args: tuple, kwargs: dict) -> np.ndarray:
    """The op's output as an object array of Duals, for inputs where float tensors are
    SymbolicTensors: the op's own forward, or, where that leaves exact algebra (a max shift,
    a LAPACK call, a per-element math.erf), the same function written for SymPy."""
    global _OVERRIDES
    require_sympy()
    if definition.name in NOT_SYMBOLIC:
        raise NotImplementedError(f"{definition.name}: {NOT_SYMBOLIC[definition.name]}")
    if _OVERRIDES is None:
        _OVERRIDES = _override_table()
    override = _OVERRIDES.get(definition.name)
    with np.errstate(all="ignore"):
        if override is None:
            out = np.asarray(definition.forward(*args, **kwargs)[0], dtype=object)
            return _elementwise(dual)(out).reshape(out.shape) if out.size else out
        exprs = expressions(override(*args, **kwargs))
        numeric = definition.forward(*_numeric(args), **kwargs)[0]
    out = np.empty(numeric.shape, dtype=object)
    for index in np.ndindex(*numeric.shape):
        out[index] = Dual(exprs[index], float(numeric[index]))
    return out


def _numeric(args: tuple) -> list:
    """The arguments with each symbolic tensor replaced by a tensor of its values."""
    from pathgrad.tensor import from_array

    def numeric(a):
        if isinstance(a, SymbolicTensor):
            return from_array(values(a._data))
        if isinstance(a, (list, tuple)) and any(isinstance(t, SymbolicTensor) for t in a):
            return [numeric(t) for t in a]
        return a

    return [numeric(a) for a in args]

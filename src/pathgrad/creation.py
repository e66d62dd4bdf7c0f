"""Making tensors: `tensor` and the factories, with PyTorch's default dtypes, and pathgrad's one
random generator (`manual_seed` reseeds it)."""

from __future__ import annotations

from typing import Any

import numpy as np

from pathgrad import dtypes, random
from pathgrad.ops.shape import checked_sizes, is_size
from pathgrad.tensor import (
    DEFAULT_INT,
    Tensor,
    _cast,
    as_tensor,
    check_device,
    from_array,
    get_default_dtype,
)

float16 = dtypes.float16
float32 = dtypes.float32
float64 = dtypes.float64
uint8 = dtypes.uint8
int8 = dtypes.int8
int16 = dtypes.int16
int32 = dtypes.int32
int64 = dtypes.int64
bool_ = dtypes.bool_
# PyTorch's other names (pg.bool, pg.float and pg.int are set in __init__: here they would hide
# the builtins this module uses)
half = float16
double = float64
short = int16
long = int64

manual_seed = random.manual_seed
default_generator = random.default_generator
Generator = random.Generator
Generator = random.Generator


def _finish(data: np.ndarray, requires_grad: bool) -> Tensor:
    t = from_array(data)
    t.requires_grad = requires_grad  # checked as an assignment is: a bool, floating data
    return t


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of `data`.

    Python floats become float32 and ints int64, as PyTorch; ndarrays keep their dtype.

    >>> pg.tensor([[1.0, 2.0]], requires_grad=True)
    tensor([[1., 2.]], requires_grad=True)
    """
    check_device(device, "tensor")
    if type(data) is Tensor:
        data = data._data
    source = as_tensor(data, dtype)._data
    return _finish(np.array(source, copy=True), requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing `array`'s memory and dtype, as PyTorch's from_numpy: writes to one show
    in the other."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected an ndarray, got {type(array).__name__}")
    return as_tensor(array)


def _sized(
    sizes: tuple, dtype: Any, default: np.dtype, name: str
) -> tuple[tuple[int, ...], np.dtype]:
    return checked_sizes(sizes, name), np.dtype(default if dtype is None else dtype)


def zeros(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of zeros, float32 unless `dtype` says otherwise: `pg.zeros(2, 3)`."""
    check_device(device, "zeros")
    shape, dtype = _sized(size, dtype, get_default_dtype(), "zeros")
    return _finish(np.zeros(shape, dtype), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of ones, float32 unless `dtype` says otherwise: `pg.ones(2, 3)`."""
    check_device(device, "ones")
    shape, dtype = _sized(size, dtype, get_default_dtype(), "ones")
    return _finish(np.ones(shape, dtype), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor whose values are whatever the memory held: `pg.empty(2, 3)`."""
    check_device(device, "empty")
    shape, dtype = _sized(size, dtype, get_default_dtype(), "empty")
    return _finish(np.empty(shape, dtype), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of `size` filled with `fill_value` (dtype from the value, as PyTorch)."""
    check_device(device, "full")
    if dtype is None:
        dtype = as_tensor(fill_value).dtype
    # NaN, infinities and values out of an integer dtype's range are refused, not wrapped
    value = _cast(
        np.asarray(fill_value._data if type(fill_value) is Tensor else fill_value), dtype, "full"
    )
    return _finish(np.full(checked_sizes((size,), "full"), value, dtype), requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """start, start + step, ... below end; int64 for integer arguments, else float32."""
    check_device(device, "arange")
    if end is None:
        start, end = 0, start
    _check_range(start, end, step)
    if dtype is None:
        whole = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = DEFAULT_INT if whole else get_default_dtype()
    return _finish(np.arange(start, end, step).astype(dtype), requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False) -> Tensor:
    """`steps` evenly spaced values from `start` to `end`, both included."""
    check_device(device, "linspace")
    if not is_size(steps):
        raise ValueError(f"linspace: steps must be a non-negative integer, got {steps!r}")
    return _finish(
        np.linspace(start, end, steps).astype(get_default_dtype() if dtype is None else dtype),
        requires_grad,
    )


def eye(n, m=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """The n x m identity (m = n by default), float32 unless `dtype` says otherwise."""
    check_device(device, "eye")
    checked_sizes((n,) if m is None else (n, m), "eye")
    return _finish(
        np.eye(n, m, dtype=get_default_dtype() if dtype is None else dtype), requires_grad
    )


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform on [0, 1)."""
    check_device(device, "rand")
    shape, dtype = _sized(size, dtype, get_default_dtype(), "rand")
    _check_floating(dtype, "rand")
    return _finish(
        random.rng(generator).random(shape, dtype=np.float64).astype(dtype), requires_grad
    )


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal."""
    check_device(device, "randn")
    shape, dtype = _sized(size, dtype, get_default_dtype(), "randn")
    _check_floating(dtype, "randn")
    return _finish(random.rng(generator).standard_normal(shape).astype(dtype), requires_grad)


def randint(
    low, high=None, size=(), *, generator=None, dtype=None, device=None, requires_grad=False
) -> Tensor:
    """Integers from [low, high) (or [0, low) when high is omitted), int64 by default."""
    check_device(device, "randint")
    if high is None:
        low, high = 0, low
    elif isinstance(high, (tuple, list)) and size == ():
        low, high, size = 0, low, high  # randint(high, size), PyTorch's two-argument form
    if not low < high:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    data = random.rng(generator).integers(low, high, size=checked_sizes((size,), "randint"))
    return _finish(np.asarray(data).astype(DEFAULT_INT if dtype is None else dtype), requires_grad)


def _check_range(start: Any, end: Any, step: Any) -> None:
    """What arange refuses, as PyTorch: a zero or non-finite step, an end it cannot reach."""
    values = np.array([start, end, step], dtype=np.float64)
    if not np.isfinite(values).all():
        raise ValueError(f"arange: start, end and step must be finite, got {start}, {end}, {step}")
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise ValueError(f"arange: end {end} cannot be reached from start {start} by step {step}")


def _check_floating(dtype: np.dtype, name: str) -> None:
    if dtype.kind != "f":
        raise TypeError(
            f"{name}: draws real numbers, which dtype {dtype} cannot hold; pass a floating "
            "dtype (e.g. dtype=pg.float32), or use randint for integers"
        )


def _like(t: Any, dtype: Any) -> tuple[tuple[int, ...], np.dtype]:
    t = as_tensor(t)
    return t.shape, t.dtype if dtype is None else np.dtype(dtype)


def zeros_like(t, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Zeros with `t`'s shape and dtype (or `dtype`)."""
    check_device(device, "zeros_like")
    shape, dtype = _like(t, dtype)
    return zeros(shape, dtype=dtype, requires_grad=requires_grad)


def ones_like(t, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Ones with `t`'s shape and dtype (or `dtype`)."""
    check_device(device, "ones_like")
    shape, dtype = _like(t, dtype)
    return ones(shape, dtype=dtype, requires_grad=requires_grad)


def empty_like(t, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uninitialised values with `t`'s shape and dtype (or `dtype`)."""
    check_device(device, "empty_like")
    shape, dtype = _like(t, dtype)
    return empty(shape, dtype=dtype, requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """`fill_value` everywhere, with `t`'s shape and dtype (or `dtype`)."""
    check_device(device, "full_like")
    shape, dtype = _like(t, dtype)
    return full(shape, fill_value, dtype=dtype, requires_grad=requires_grad)


def rand_like(t, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform on [0, 1) with `t`'s shape and floating dtype (or `dtype`)."""
    check_device(device, "rand_like")
    shape, dtype = _like(t, dtype)
    return rand(shape, dtype=dtype, requires_grad=requires_grad)


def randn_like(t, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal with `t`'s shape and floating dtype (or `dtype`)."""
    check_device(device, "randn_like")
    shape, dtype = _like(t, dtype)
    return randn(shape, dtype=dtype, requires_grad=requires_grad)


def randint_like(t, low, high=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Integers from [low, high) with `t`'s shape and dtype (or `dtype`)."""
    check_device(device, "randint_like")
    shape, dtype = _like(t, dtype)
    return randint(low, high, shape, dtype=dtype, requires_grad=requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A random permutation of 0 .. n - 1 (int64), from pathgrad's generator."""
    check_device(device, "randperm")
    (size,) = checked_sizes((n,), "randperm")
    order = random.rng(generator).permutation(size)
    return _finish(order.astype(DEFAULT_INT if dtype is None else dtype), requires_grad)


def normal(
    mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False
):
    """Draws from N(mean, std^2): `mean` and `std` numbers (then `size` is needed) or tensors,
    which broadcast, as PyTorch's normal. Not differentiable in mean or std (PyTorch's isn't
    either); use mean + std * randn(...) for that."""
    check_device(device, "normal")
    mean_data, std_data = (as_tensor(v)._data for v in (mean, std))
    if size is None:
        if isinstance(mean, (int, float)) and isinstance(std, (int, float)):
            raise TypeError("normal: with number mean and std, give size")
        shape = np.broadcast_shapes(mean_data.shape, std_data.shape)
    else:
        shape = checked_sizes((size,), "normal")
    if (std_data < 0).any():
        raise ValueError(f"normal: std must be >= 0, got {std_data.min()}")
    if dtype is None:
        floating = [d.dtype for d in (mean_data, std_data) if d.dtype.kind == "f" and d.ndim]
        dtype = np.result_type(*floating) if floating else get_default_dtype()
    draws = random.rng(generator).normal(mean_data, std_data, shape)
    return _finish(np.asarray(draws).astype(dtype), requires_grad)


def bernoulli(p, *, generator=None) -> Tensor:
    """0 or 1 per element, 1 with probability p (a tensor in [0, 1]), in p's dtype."""
    probabilities = as_tensor(p)._data
    if probabilities.dtype.kind != "f":
        raise TypeError(
            f"bernoulli: expects probabilities of a floating dtype, got {probabilities.dtype}"
        )
    if probabilities.size and (probabilities.min() < 0 or probabilities.max() > 1):
        raise ValueError("bernoulli: probabilities must lie in [0, 1]")
    draws = random.rng(generator).random(probabilities.shape) < probabilities
    return from_array(draws.astype(probabilities.dtype))


def multinomial(input, num_samples, replacement=False, *, generator=None) -> Tensor:
    """num_samples category indices per row of `input` (weights >= 0, 1-D or 2-D), drawn in
    proportion to the weights, without replacement unless asked, as PyTorch's multinomial."""
    weights = as_tensor(input)._data.astype(np.float64)
    if weights.ndim not in (1, 2):
        raise ValueError(f"multinomial: expects 1-D or 2-D weights, got shape {weights.shape}")
    rows = weights.reshape(-1, weights.shape[-1])
    if (rows < 0).any() or not np.isfinite(rows).all() or (rows.sum(axis=1) <= 0).any():
        raise ValueError("multinomial: weights must be finite, >= 0, and not all 0 in a row")
    if not replacement and num_samples > rows.shape[1]:
        raise ValueError(
            f"multinomial: cannot draw {num_samples} samples without replacement from "
            f"{rows.shape[1]} categories"
        )
    generator = random.rng(generator)
    picks = []
    for row in rows:
        if not replacement and np.count_nonzero(row) < num_samples:
            raise ValueError("multinomial: fewer nonzero weights than samples without replacement")
        picks.append(
            generator.choice(row.size, num_samples, replace=replacement, p=row / row.sum())
        )
    out = np.array(picks, dtype=np.int64).reshape(weights.shape[:-1] + (num_samples,))
    return from_array(out)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    """base ** linspace(start, end, steps)."""
    check_device(device, "logspace")
    values = np.logspace(start, end, checked_sizes((steps,), "logspace")[0], base=base)
    return _finish(values.astype(get_default_dtype() if dtype is None else dtype), requires_grad)


def tril_indices(row, col, offset=0, *, dtype=None) -> Tensor:
    """The (2, n) positions of the lower triangle of a row x col matrix, row by row."""
    checked_sizes((row, col), "tril_indices")
    positions = np.tril_indices(row, offset, col)
    return from_array(np.array(positions, dtype=DEFAULT_INT if dtype is None else dtype))


def triu_indices(row, col, offset=0, *, dtype=None) -> Tensor:
    """The (2, n) positions of the upper triangle of a row x col matrix, row by row."""
    checked_sizes((row, col), "triu_indices")
    positions = np.triu_indices(row, offset, col)
    return from_array(np.array(positions, dtype=DEFAULT_INT if dtype is None else dtype))


def poisson(rates, generator=None) -> Tensor:
    """Draws from Poisson(rate) per element (rates >= 0), in the rates' dtype."""
    data = as_tensor(rates)._data
    if data.size and (data.min() < 0 or not np.isfinite(data).all()):
        raise ValueError("poisson: rates must be finite and >= 0")
    dtype = data.dtype if data.dtype.kind == "f" else get_default_dtype()
    return from_array(random.rng(generator).poisson(data).astype(dtype))

"""pathgrad.nn.init: PyTorch's initialisers, filling tensors in place without recording.

Each takes `generator=` (a pathgrad.Generator) as PyTorch's do; the statistics are PyTorch's
(checked in the tests), the streams pathgrad's own.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pathgrad import random, versions
from pathgrad.tensor import Tensor

__all__ = [
    "calculate_gain",
    "constant_",
    "eye_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]


def _fill(tensor: Tensor, values: Any, name: str) -> Tensor:
    """Write `values` into `tensor`'s memory, unrecorded (as under no_grad), counting the change."""
    if type(tensor) is not Tensor:
        raise TypeError(f"{name}: expects a pathgrad tensor, got {type(tensor).__name__}")
    tensor._data[...] = values
    versions.record_change(tensor._base if tensor._base is not None else tensor, name, None)
    return tensor


def _draw(tensor: Tensor, generator: Any, name: str, draw: Any) -> Tensor:
    if type(tensor) is not Tensor:
        raise TypeError(f"{name}: expects a pathgrad tensor, got {type(tensor).__name__}")
    if tensor._data.dtype.kind != "f":
        raise TypeError(f"{name}: fills floating tensors, got dtype {tensor._data.dtype}")
    values = draw(random.rng(generator, name), tensor._data.shape)
    return _fill(tensor, values.astype(tensor._data.dtype, copy=False), name)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity, as torch.nn.init.calculate_gain."""
    linear = (
        "linear",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
        "sigmoid",
    )
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity}")


def _fans(tensor: Tensor, name: str) -> tuple[int, int]:
    shape = tensor._data.shape
    if len(shape) < 2:
        raise ValueError(
            f"{name}: fan in and fan out cannot be computed for a tensor with fewer than 2 "
            f"dimensions (shape {shape})"
        )
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    return _draw(tensor, generator, "uniform_", lambda rng, shape: rng.uniform(a, b, shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    return _draw(tensor, generator, "normal_", lambda rng, shape: rng.normal(mean, std, shape))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """N(mean, std^2) restricted to [a, b], by rejection (exact), as PyTorch's distribution."""

    def draw(rng, shape):
        count = int(np.prod(shape))
        kept = np.empty(0)
        while kept.size < count:
            values = rng.normal(mean, std, max(2 * (count - kept.size), 16))
            kept = np.concatenate([kept, values[(values >= a) & (values <= b)]])
        return kept[:count].reshape(shape)

    return _draw(tensor, generator, "trunc_normal_", draw)


def constant_(tensor, val):
    return _fill(tensor, val, "constant_")


def ones_(tensor):
    return _fill(tensor, 1, "ones_")


def zeros_(tensor):
    return _fill(tensor, 0, "zeros_")


def eye_(tensor):
    if tensor._data.ndim != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {tensor.shape}")
    return _fill(tensor, np.eye(*tensor._data.shape), "eye_")


def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _fans(tensor, "xavier_uniform_")
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _draw(tensor, generator, "xavier_uniform_", lambda rng, s: rng.uniform(-bound, bound, s))


def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _fans(tensor, "xavier_normal_")
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _draw(tensor, generator, "xavier_normal_", lambda rng, s: rng.normal(0.0, std, s))


def _kaiming_std(tensor, a, mode, nonlinearity, name):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{name}: mode {mode!r} not supported, use 'fan_in' or 'fan_out'")
    fan_in, fan_out = _fans(tensor, name)
    if 0 in tensor._data.shape:
        return 0.0
    return calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    return _draw(
        tensor, generator, "kaiming_uniform_", lambda rng, s: rng.uniform(-bound, bound, s)
    )


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    return _draw(tensor, generator, "kaiming_normal_", lambda rng, s: rng.normal(0.0, std, s))


def orthogonal_(tensor, gain=1.0, generator=None):
    """A (semi-)orthogonal matrix from the QR of a normal draw, signs fixed as PyTorch's."""
    if tensor._data.ndim < 2:
        raise ValueError("orthogonal_: only tensors with 2 or more dimensions are supported")
    rows = tensor._data.shape[0]
    cols = tensor._data.size // rows

    def draw(rng, shape):
        flat = rng.normal(0.0, 1.0, (rows, cols))
        if rows < cols:
            flat = flat.T
        q, r = np.linalg.qr(flat)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (gain * q).reshape(shape)

    return _draw(tensor, generator, "orthogonal_", draw)

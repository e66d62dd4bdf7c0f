"""One flat vector of all parameters, and back, as torch.nn.utils's."""

from __future__ import annotations

from typing import Any

from pathgrad import versions
from pathgrad.ops.shape import cat, reshape
from pathgrad.tensor import Tensor, as_tensor


def parameters_to_vector(parameters: Any) -> Tensor:
    """The parameters flattened and concatenated (differentiable, as PyTorch's)."""
    return cat([reshape(p, (-1,)) for p in parameters])


def vector_to_parameters(vec: Any, parameters: Any) -> None:
    """Copy consecutive slices of `vec` into the parameters, in place."""
    vector = as_tensor(vec)
    if vector.ndim != 1:
        raise TypeError(f"vector_to_parameters: expects a 1-D vector, got shape {vector.shape}")
    start = 0
    for p in parameters:
        size = p._data.size
        if start + size > vector._data.size:
            raise ValueError("vector_to_parameters: the vector is shorter than the parameters")
        p._data[...] = vector._data[start : start + size].reshape(p._data.shape)
        versions.record_change(p._base if p._base is not None else p, "vector_to_parameters", None)
        start += size
    if start != vector._data.size:
        raise ValueError(
            f"vector_to_parameters: the vector has {vector._data.size} elements, the parameters "
            f"{start}"
        )

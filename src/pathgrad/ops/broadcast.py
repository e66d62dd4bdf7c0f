"""Broadcasting has one home: the explicit `broadcast_to` op and its VJP, `sum_to_shape`.

Binary ops never reduce a gradient themselves: the engine first brings each operand that needs
a gradient to the common shape with `broadcast_to` (and to the common dtype with `to`), so the
graph shows every broadcast and `sum_to_shape` is the only unbroadcast in the code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pathgrad.errors import ShapeError, op_context
from pathgrad.ops import registry
from pathgrad.ops.registry import op


def broadcast_shapes(op_name: str, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    """NumPy's broadcast of `shapes`, or a ShapeError naming the op, the shapes and the dim."""
    if len(shapes) == 2:  # the common case: one shape is the other's tail, as (n, m) and (m,)
        first, second = shapes
        if len(first) >= len(second) and first[len(first) - len(second) :] == second:
            return first
        if len(second) > len(first) and second[len(second) - len(first) :] == first:
            return second
    ndim = max(len(s) for s in shapes)
    result = [1] * ndim
    for shape in shapes:
        offset = ndim - len(shape)
        for axis, size in enumerate(shape, offset):
            current = result[axis]
            if size != current:
                if current == 1:
                    result[axis] = size
                elif size != 1:
                    shown = " and ".join(str(tuple(s)) for s in shapes)
                    raise ShapeError(
                        f"{op_context(op_name)}: shapes {shown} cannot be broadcast: sizes "
                        f"{current} and {size} meet at dim {axis - ndim} (sizes must match or "
                        "be 1)"
                    )
    return tuple(result)


def broadcasts_to(source: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    """Whether NumPy broadcasts an array of shape `source` to `shape`."""
    lead = len(shape) - len(source)
    return lead >= 0 and all(s == t or s == 1 for s, t in zip(source, shape[lead:]))


def broadcast_view(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A read-only view of `array` broadcast to `shape`: np.broadcast_to's result, made with a
    stride-0 ndarray directly, which costs a tenth of it on small arrays."""
    lead = len(shape) - array.ndim
    if shape[lead:] == array.shape:  # the common case, a bias: only leading dims are added
        strides = (0,) * lead + array.strides
    else:
        strides = (0,) * lead + tuple(
            stride if size == target else 0
            for size, target, stride in zip(array.shape, shape[lead:], array.strides)
        )
    try:  # type(array): a subclass's view stays one (pg.compile's traced arrays follow it)
        view = type(array)(shape, array.dtype, array, 0, strides)
    except (TypeError, ValueError):  # memory that does not export a buffer (a strided view)
        return np.broadcast_to(array, shape)
    view.setflags(write=False)  # half the cost of view.flags.writeable = False
    return view


def reduced_axes(shape: tuple[int, ...], target: tuple[int, ...]) -> tuple[int, ...]:
    """The axes of `shape` that broadcasting from `target` created or stretched."""
    lead = len(shape) - len(target)
    if shape[lead:] == target:  # only leading axes were added, as for a bias
        return tuple(range(lead))
    axes = list(range(lead))
    for i, size in enumerate(target):
        if size == 1 and shape[lead + i] != 1:
            axes.append(lead + i)
    return tuple(axes)


@op("broadcast_to", view=True, rule="dL/dx = sum_to_shape(dL/dout, x.shape)")
def broadcast_to(x, shape):
    """`x` repeated along new or size-1 dims to `shape` (a read-only view); its rule is
    `sum_to_shape`, the one unbroadcast: dL/dc = (dL/dd).sum(0) for a bias c."""
    shape = tuple(shape)
    source = x._data.shape
    lead = len(shape) - len(source)
    # the common case first, a bias: only leading dims are added
    if lead < 0 or (shape[lead:] != source and not broadcasts_to(source, shape)):
        raise ShapeError(
            f"{op_context('broadcast_to')}: a tensor of shape {source} cannot be broadcast to "
            f"{shape}"
        )
    out = broadcast_view(x._data, shape) if shape != source else x._data

    def vjp(grad):
        return sum_to_shape(grad, source)

    return out, vjp


@op("sum_to_shape", rule="dL/dx = broadcast_to(dL/dout, x.shape)")
def sum_to_shape(x, shape):
    """Sum `x` over the axes that broadcasting from `shape` added: dL/dc = (dL/dd).sum(0)."""
    shape = tuple(shape)
    source = x._data.shape
    axes = reduced_axes(source, shape)
    out = np.add.reduce(x._data, axis=axes) if axes else x._data  # .sum(), less a Python wrapper
    if out.shape != shape:  # size-1 dims that were stretched come back as 1
        out = out.reshape(shape)

    def vjp(grad):
        return broadcast_to(grad, source)

    return out, vjp


@op("to", rule="dL/dx = dL/dout.to(x.dtype)")
def to(x, dtype):
    """Cast to `dtype`; the gradient is cast back, so mixed-precision inputs get their own dtype."""
    source = x._data.dtype
    out = x._data.astype(dtype, copy=False)

    def vjp(grad):
        return to(grad, source) if source.kind == "f" else None

    return out, vjp


def expand_as_needed(t: Any, shape: tuple[int, ...], dtype: Any) -> Any:
    """`t` cast to `dtype` and broadcast to `shape` by recorded ops, only where it differs."""
    if t._data.dtype != dtype:
        t = to(t, dtype)
    if t._data.shape != shape:
        t = broadcast_to(t, shape)
    return t


def broadcast_tensors(*tensors):
    """The tensors brought to one shape by recorded broadcast_to (views), as PyTorch's."""
    tensors = [registry.as_tensor(t) for t in tensors]
    shape = broadcast_shapes("broadcast_tensors", *(t._data.shape for t in tensors))
    return tuple(t if t._data.shape == shape else broadcast_to(t, shape) for t in tensors)

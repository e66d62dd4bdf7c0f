"""Shape primitives: views where NumPy gives views, each rule undoing its own move."""

from __future__ import annotations

import itertools
import math
import operator
from typing import Any

import numpy as np

from pathgrad.errors import ShapeError, op_context
from pathgrad.ops.broadcast import broadcast_to
from pathgrad.ops.registry import as_tensor, normalize_dims, numpy_names, op


def sizes_argument(sizes: tuple) -> tuple:
    """`f(2, 3)` and `f((2, 3))` both mean the sizes (2, 3), as in PyTorch."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        return tuple(sizes[0])
    return tuple(sizes)


def checked_sizes(sizes: tuple, name: str) -> tuple[int, ...]:
    """A factory's sizes, `f(2, 3)` or `f((2, 3))`, as a shape, or an error naming the factory
    and the size that is no size."""
    shape = sizes_argument(sizes)
    for size in shape:
        # as PyTorch: a size of the wrong type is a TypeError, a negative one a RuntimeError
        if not isinstance(size, (int, np.integer)) or isinstance(size, bool):
            raise TypeError(f"{name}: sizes must be integers, got {size!r} in {shape}")
        if size < 0:
            raise ValueError(f"{name}: sizes must be non-negative, got {size} in {shape}")
    return tuple(int(size) for size in shape)


def is_size(value: Any) -> bool:
    """A non-negative integer (not a bool): what a size or a count of steps must be."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 0


def movedim(x, source, destination):
    """Dims `source` moved to positions `destination`, the others keeping their order."""
    x = as_tensor(x)
    return permute(x, _moved_dims(x.ndim, source, destination))


def select(x, dim, index):
    """The slice at `index` along `dim`, that dim removed: select(x, 1, 0) is x[:, 0]."""
    x = as_tensor(x)
    (axis,) = normalize_dims(dim, x.ndim, "select")
    size = x.shape[axis]
    if not -size <= index < size:
        raise IndexError(
            f"{op_context('select')}: index {index} is out of range for dim {axis} of size {size}"
        )
    return x[(slice(None),) * axis + (index,)]


@numpy_names
def unbind(x, dim=0):
    """The slices along `dim`, as a tuple."""
    x = as_tensor(x)
    (axis,) = normalize_dims(dim, x.ndim, "unbind")
    return tuple(select(x, axis, i) for i in range(x.shape[axis]))


def _moved_dims(ndim: int, source, destination) -> tuple[int, ...]:
    """The permutation that movedim(source, destination) applies, as PyTorch's."""
    source = source if isinstance(source, (tuple, list)) else (source,)
    destination = destination if isinstance(destination, (tuple, list)) else (destination,)
    if len(source) != len(destination):
        raise ValueError(
            f"{op_context('movedim')}: {len(source)} source dims but {len(destination)} "
            "destinations"
        )
    # one dim at a time, so the order given is kept (normalize_dims sorts)
    moved = [normalize_dims(d, ndim, "movedim")[0] for d in source]
    places = [normalize_dims(d, ndim, "movedim")[0] for d in destination]
    if len(set(moved)) != len(moved) or len(set(places)) != len(places):
        raise ValueError(f"{op_context('movedim')}: repeated dims in {source} or {destination}")
    order: list = [None] * ndim
    for dim, place in zip(moved, places):
        order[place] = dim
    rest = iter(d for d in range(ndim) if d not in moved)
    return tuple(d if d is not None else next(rest) for d in order)


def resolve_shape(op_name: str, source: tuple[int, ...], shape: tuple) -> tuple[int, ...]:
    """`shape` with a -1 filled in, or a ShapeError naming both shapes and element counts."""
    for size in shape:
        if not isinstance(size, (int, np.integer)) or isinstance(size, bool):
            raise TypeError(f"{op_context(op_name)}: sizes must be integers, got {size!r}")
    count = math.prod(source)
    if -1 not in shape and math.prod(shape) == count and min(shape, default=0) >= 0:
        return tuple(shape)  # nothing to infer, the counts agree: the common case
    unknown = [i for i, s in enumerate(shape) if s == -1]
    known = math.prod([s for s in shape if s != -1])
    if len(unknown) > 1 or any(s < -1 for s in shape):
        raise ShapeError(f"{op_context(op_name)}: invalid shape {shape}: at most one -1")
    if unknown and known and count % known == 0:
        shape = tuple(count // known if s == -1 else s for s in shape)
    if math.prod(shape) != count or -1 in shape:
        raise ShapeError(
            f"{op_context(op_name)}: cannot reshape a tensor of shape {source} ({count} "
            f"elements) to {shape}"
        )
    return tuple(shape)


@op("reshape", view="maybe", rule="dL/dx = dL/dout.reshape(x.shape)")
def reshape(x, *shape):
    """The same elements in a new shape (a view when NumPy can make one); -1 is inferred."""
    source = x._data.shape
    shape = sizes_argument(shape)
    if shape != source:
        shape = resolve_shape("reshape", source, shape)

    def vjp(grad):
        return reshape(grad, source)

    return x._data.reshape(shape), vjp


def memory_owner(array: np.ndarray) -> Any:
    """The array whose memory `array` views (itself if it owns it): unlike an overlap test,
    this also tells a view with no elements from a copy."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def view(x, *shape):
    """`reshape` that never copies, as PyTorch's view: a shape that the tensor's strides cannot
    give without copying is an error (reshape copies when it must)."""
    x = as_tensor(x)
    source = x._data.shape
    shape = sizes_argument(shape)
    if shape != source:
        shape = resolve_shape("view", source, shape)
    viewed = x._data.reshape(shape)
    if viewed.size and memory_owner(viewed) is not memory_owner(x._data):  # NumPy had to copy
        strides = tuple(s // x._data.itemsize for s in x._data.strides)
        raise ShapeError(
            f"{op_context('view')}: a tensor of shape {source} with strides {strides} (a "
            f"transpose or a slice) cannot be viewed as {shape} without copying; use "
            ".reshape(), which copies when it must, or .contiguous() first"
        )
    return reshape(x, shape)


def flatten(x, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim into one."""
    x = as_tensor(x)
    ndim = x._data.ndim
    if ndim == 0:
        return reshape(x, (1,))
    if (
        type(start_dim) is int
        and type(end_dim) is int
        and -ndim <= start_dim < ndim
        and (-ndim <= end_dim < ndim)
    ):  # in range: no call to normalize them (nn.Flatten's, on every step)
        first, last = start_dim % ndim, end_dim % ndim
    else:
        (first,) = normalize_dims(start_dim, ndim, "flatten")
        (last,) = normalize_dims(end_dim, ndim, "flatten")
    if first > last:
        raise ValueError(
            f"{op_context('flatten')}: start_dim {start_dim} comes after end_dim {end_dim}"
        )
    shape = x._data.shape
    return reshape(x, shape[:first] + (math.prod(shape[first : last + 1]),) + shape[last + 1 :])


@op("transpose", view=True, rule="dL/dx = dL/dout.transpose(dim0, dim1)")
def transpose(x, dim0, dim1):
    """Swap two dims (a view)."""
    data = x._data
    rank = data.ndim or 1
    if not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in (dim0, dim1)):
        raise TypeError(f"{op_context('transpose')}: dims must be integers, got {dim0!r}, {dim1!r}")
    if not (-rank <= dim0 < rank and -rank <= dim1 < rank):
        normalize_dims((dim0, dim1), data.ndim, "transpose")  # raises, naming the dim

    def vjp(grad):
        return transpose(grad, dim0, dim1)

    return data.swapaxes(dim0, dim1) if data.ndim else data, vjp


@op("permute", view=True, rule="dL/dx = dL/dout.permute(argsort(dims))")
def permute(x, *dims):
    """Reorder dims (a view); `dims` must name each dim once."""
    dims = sizes_argument(dims)
    ndim = x._data.ndim
    if len(dims) != ndim:
        raise ShapeError(
            f"{op_context('permute')}: {len(dims)} dims {dims} given for a tensor of shape "
            f"{x._data.shape}"
        )
    axes = tuple(d % ndim for d in dims) if ndim else ()
    if sorted(axes) != list(range(ndim)):
        raise ShapeError(f"{op_context('permute')}: dims {dims} must name each dim once")
    inverse = tuple(int(i) for i in np.argsort(axes))

    def vjp(grad):
        return permute(grad, inverse)

    return np.transpose(x._data, axes), vjp


@op("squeeze", view=True, rule="dL/dx = dL/dout.reshape(x.shape)")
def squeeze(x, dim=None):
    """Drop size-1 dims (only those in `dim` when given; others are left, as PyTorch)."""
    source = x._data.shape
    dims = normalize_dims(dim, len(source), "squeeze")
    shape = tuple(s for axis, s in enumerate(source) if not (axis in dims and s == 1))

    def vjp(grad):
        return reshape(grad, source)

    return x._data.reshape(shape), vjp


@op("unsqueeze", view=True, rule="dL/dx = dL/dout.squeeze(dim)")
def unsqueeze(x, dim):
    """Insert a size-1 dim at `dim` (from -ndim-1 to ndim)."""
    source = x._data.shape
    ndim = len(source)
    if not -ndim - 1 <= dim <= ndim:
        raise IndexError(
            f"{op_context('unsqueeze')}: dim {dim} is out of range for a tensor with {ndim} "
            f"dimensions (expected a dim in [{-ndim - 1}, {ndim}])"
        )
    axis = dim % (ndim + 1)

    def vjp(grad):
        return reshape(grad, source)

    return np.expand_dims(x._data, axis), vjp


def expand(x, *sizes):
    """Broadcast to `sizes`; -1 keeps a dim's size."""
    x = as_tensor(x)
    sizes = sizes_argument(sizes)
    lead = len(sizes) - x.ndim
    shape = tuple(
        x.shape[i - lead] if size == -1 and i >= lead else size for i, size in enumerate(sizes)
    )
    if (
        lead < 0
        or min(shape, default=0) < 0
        or any(n not in (1, shape[lead + i]) for i, n in enumerate(x.shape))
    ):
        raise ShapeError(
            f"{op_context('expand')}: a tensor of shape {x.shape} cannot be expanded to {shape} "
            "(only dims of size 1 expand, and the sizes given must be at least the tensor's dims)"
        )
    return broadcast_to(x, shape)


@op("flip", view=True, rule="dL/dx = dL/dout.flip(dims)")
def flip(x, dims):
    """Reverse the order along `dims`."""
    axes = normalize_dims(dims, x._data.ndim, "flip")

    def vjp(grad):
        return flip(grad, axes)

    return np.flip(x._data, axes), vjp


@op("repeat", rule="dL/dx = dL/dout summed over the repeated tiles")
def repeat(x, *sizes):
    """Tile the tensor `sizes[i]` times along dim i, as PyTorch's repeat (NumPy's tile)."""
    sizes = sizes_argument(sizes)
    source = x._data.shape
    if len(sizes) < len(source):
        raise ShapeError(
            f"{op_context('repeat')}: {len(sizes)} repeat counts for a tensor of shape "
            f"{source}; give at least {len(source)}"
        )
    padded = (1,) * (len(sizes) - len(source)) + source

    def vjp(grad):
        # each copy gets its slice of the gradient; the copies' slices add up
        interleaved = tuple(v for pair in zip(sizes, padded) for v in pair)
        copies = tuple(range(0, 2 * len(sizes), 2))
        return reshape(grad.reshape(interleaved).sum(copies), source)

    return np.tile(x._data, sizes), vjp


@op("cat", inputs="sequence", rule="dL/dtensors[i] = dL/dout.narrow(dim, offset_i, size_i)")
def cat(tensors, dim=0):
    """Join tensors along an existing dim."""
    arrays = [t._data for t in tensors]
    if not arrays:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    ndim = arrays[0].ndim
    if ndim == 0:
        raise ShapeError(f"{op_context('cat')}: zero-dimensional tensors cannot be joined")
    (axis,) = normalize_dims(dim, ndim, "cat")
    for position, a in enumerate(arrays):
        other = a.shape[:axis] + a.shape[axis + 1 :]
        first = arrays[0].shape[:axis] + arrays[0].shape[axis + 1 :]
        if a.ndim != ndim or other != first:
            raise ShapeError(
                f"{op_context('cat')}: tensor {position} has shape {a.shape}, tensor 0 has "
                f"{arrays[0].shape}: all dims but dim {dim} must match"
            )
    bounds = list(itertools.accumulate((a.shape[axis] for a in arrays), initial=0))

    def vjp(grad):
        return tuple(
            narrow(grad, axis, start, stop - start) for start, stop in zip(bounds, bounds[1:])
        )

    return np.concatenate(arrays, axis=axis), vjp


def stack(tensors, dim=0):
    """Join tensors along a new dim."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    shapes = {t._data.shape for t in tensors}
    if len(shapes) > 1:
        raise ShapeError(f"{op_context('stack')}: all tensors need one shape, got {sorted(shapes)}")
    return cat([unsqueeze(t, dim) for t in tensors], dim)


def narrow(x, dim, start, length):
    """The slice start:start+length along `dim` (a view)."""
    x = as_tensor(x)
    (axis,) = normalize_dims(dim, x.ndim, "narrow")
    size = x.shape[axis]
    start, length = operator.index(start), operator.index(length)
    if not -size <= start <= size:
        raise IndexError(
            f"{op_context('narrow')}: start {start} is out of range for dim {axis} of size {size}"
        )
    start %= size or 1
    if length < 0 or start + length > size:
        raise ValueError(
            f"{op_context('narrow')}: start {start} + length {length} exceeds dim {axis} of "
            f"size {size}"
        )
    return x[(slice(None),) * axis + (slice(start, start + length),)]


def split(x, split_size_or_sections, dim=0):
    """Pieces of `split_size` along `dim` (the last may be smaller), or of the listed sizes."""
    x = as_tensor(x)
    (axis,) = normalize_dims(dim, x.ndim, "split")
    total = x.shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):  # NumPy's ints are ints too
        step = int(split_size_or_sections)
        if step <= 0:
            raise ValueError(f"{op_context('split')}: split_size must be positive, got {step}")
        sizes = [min(step, total - start) for start in range(0, total, step)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != total:
            raise ShapeError(
                f"{op_context('split')}: sizes {sizes} add up to {sum(sizes)}, but dim {dim} "
                f"has size {total}"
            )
    starts = itertools.accumulate(sizes[:-1], initial=0)
    return tuple(narrow(x, axis, start, size) for start, size in zip(starts, sizes))


@numpy_names
def chunk(x, chunks, dim=0):
    """`chunks` pieces of equal size along `dim` (the last may be smaller), as PyTorch."""
    x = as_tensor(x)
    try:
        chunks = operator.index(chunks)
    except TypeError:
        raise TypeError(
            f"{op_context('chunk')}: chunks must be an integer, got {chunks!r}"
        ) from None
    if chunks <= 0:
        raise ValueError(f"{op_context('chunk')}: chunks must be positive, got {chunks}")
    (axis,) = normalize_dims(dim, x.ndim, "chunk")
    step = -(-x.shape[axis] // chunks) if x.shape[axis] else 1
    return split(x, step, axis)


def _triangle(x, diagonal, op_name, keep_lower):
    if x._data.ndim < 2:
        raise ShapeError(
            f"{op_context(op_name)}: needs a tensor of at least 2 dims, got shape {x._data.shape}"
        )
    return (np.tril if keep_lower else np.triu)(x._data, diagonal)


@op("tril", rule="dL/dx = dL/dout.tril(diagonal)")
def tril(x, diagonal=0):
    """The lower triangle of the last two dims (on and below `diagonal`), zeros above: the
    gradient is the incoming one's lower triangle."""

    def vjp(grad):
        return tril(grad, diagonal)

    return _triangle(x, diagonal, "tril", True), vjp


@op("triu", rule="dL/dx = dL/dout.triu(diagonal)")
def triu(x, diagonal=0):
    """The upper triangle of the last two dims (on and above `diagonal`), zeros below."""

    def vjp(grad):
        return triu(grad, diagonal)

    return _triangle(x, diagonal, "triu", False), vjp


@op("roll", rule="dL/dx = dL/dout.roll(-shifts, dims)")
def roll(x, shifts, dims=None):
    """Elements shifted along `dims`, those pushed off one end coming back at the other (the
    whole tensor, flattened, when dims is None): the gradient is rolled back."""
    data = x._data
    if dims is None:
        axes = None
    else:
        axes = tuple(
            normalize_dims(d, data.ndim, "roll")[0]
            for d in (dims if isinstance(dims, (tuple, list)) else (dims,))
        )
    steps = tuple(shifts) if isinstance(shifts, (tuple, list)) else shifts
    if axes is not None and isinstance(steps, tuple) and len(steps) != len(axes):
        raise ValueError(f"{op_context('roll')}: {len(steps)} shifts for {len(axes)} dims")

    def vjp(grad):
        back = tuple(-s for s in steps) if isinstance(steps, tuple) else -steps
        return roll(grad, back, axes)

    return np.roll(data, steps, axes), vjp


def _diagonal_axes(op_name, ndim, dim1, dim2):
    if ndim < 2:
        raise ShapeError(f"{op_context(op_name)}: needs a tensor of at least 2 dims, not {ndim}")
    first = normalize_dims(dim1, ndim, op_name)[0]
    second = normalize_dims(dim2, ndim, op_name)[0]
    if first == second:
        raise ValueError(f"{op_context(op_name)}: dim1 and dim2 are both dim {first}")
    return first, second


@op("diagonal", view=True, rule="dL/dx = zeros(x.shape) with dL/dout on the diagonal")
def diagonal(x, offset=0, dim1=0, dim2=1):
    """The diagonal of dims dim1 and dim2 (`offset` above it, or below if negative), as the last
    dim: a view, as PyTorch's, so writing into it writes into x. Its gradient is the incoming
    one put back on that diagonal of zeros."""
    data = x._data
    first, second = _diagonal_axes("diagonal", data.ndim, dim1, dim2)
    out = np.diagonal(data, offset, first, second)
    if data.flags.writeable:
        out.flags.writeable = True  # NumPy hands it out read-only; PyTorch's view is writable

    shape = data.shape  # the shape, not the array: a rule keeps no raw input memory

    def vjp(grad):
        return diagonal_backward(grad, shape, offset, first, second)

    return out, vjp


@op("diagonal_backward", rule="dL/dgrad = dL/dout.diagonal(offset, dim1, dim2)")
def diagonal_backward(grad, shape, offset, dim1, dim2):
    """Zeros of `shape` with `grad` on the diagonal that `diagonal` reads: diagonal's VJP, and
    `diag` of a vector. Its own gradient is that diagonal of the incoming one."""
    out = np.zeros(shape, grad._data.dtype)
    target = np.diagonal(out, offset, dim1, dim2)
    target.flags.writeable = True
    target[...] = grad._data

    def vjp(incoming):
        return diagonal(incoming, offset, dim1, dim2)

    return out, vjp


@op("unfold", view=True, rule="dL/dx = the windows of dL/dout summed back in place")
def unfold(x, dimension, size, step):
    """Windows of `size` elements along `dimension`, `step` apart, as a new last dim (PyTorch's
    Tensor.unfold): a view, read-only where windows overlap, since one element then sits in
    several. Its gradient adds each window's gradient back where the window was read."""
    data = x._data
    lead = data if data.ndim else data.reshape(1)  # a 0-d tensor has the one window of itself
    (axis,) = normalize_dims(dimension, lead.ndim, "unfold") if data.ndim else (0,)
    length = lead.shape[axis]
    if operator.index(step) <= 0 or operator.index(size) < 0 or size > length:
        raise ShapeError(
            f"{op_context('unfold')}: windows of size {size}, step {step} along dim "
            f"{dimension} of size {length}: the size must be in [0, {length}], the step above 0"
        )
    count = (length - size) // step + 1
    stride = lead.strides[axis]
    out = np.lib.stride_tricks.as_strided(
        lead,
        lead.shape[:axis] + (count,) + lead.shape[axis + 1 :] + (size,),
        lead.strides[:axis] + (stride * step,) + lead.strides[axis + 1 :] + (stride,),
        writeable=data.flags.writeable and step >= size,
        subok=True,  # a subclass's view stays one (pg.compile's traced arrays follow it)
    )

    shape = data.shape

    def vjp(grad):
        return unfold_backward(grad, shape, axis, size, step)

    return (out if data.ndim else out[0]), vjp


@op("unfold_backward", rule="dL/dgrad = dL/dout.unfold(axis, size, step)")
def unfold_backward(grad, shape, axis, size, step):
    """Zeros of `shape` with each window's gradient added where `unfold` read it (overlaps add):
    unfold's VJP. Its own gradient is the unfold of the incoming one."""
    out = np.zeros(shape or (1,), grad._data.dtype)
    windows = grad._data if shape else grad._data.reshape(1, -1)
    count = windows.shape[axis]
    for k in range(size):  # the k-th element of every window: one strided slice of the input
        spot = [slice(None)] * out.ndim
        spot[axis] = slice(k, k + step * (count - 1) + 1, step)
        out[tuple(spot)] += windows[..., k]

    def vjp(incoming):
        return unfold(incoming, axis, size, step)

    return out.reshape(shape), vjp


_diagonal_of = diagonal  # diag's argument is named `diagonal`, as PyTorch's


def diag(x, diagonal=0):
    """A vector's matrix with it on the `diagonal` (zeros elsewhere), or a matrix's diagonal, as
    PyTorch's diag."""
    x = as_tensor(x)
    if x.ndim == 1:
        size = x.shape[0] + abs(diagonal)
        return diagonal_backward(x, (size, size), diagonal, 0, 1)
    if x.ndim == 2:
        return _diagonal_of(x, diagonal, 0, 1)
    raise ShapeError(f"{op_context('diag')}: expects a 1-D or 2-D tensor, got shape {x.shape}")


def trace(x):
    """The sum of a matrix's diagonal."""
    x = as_tensor(x)
    if x.ndim != 2:
        raise ShapeError(f"{op_context('trace')}: expects a 2-D tensor, got shape {x.shape}")
    return diagonal(x).sum()


# Compositions PyTorch offers by name: views and joins of the primitives above, no rules.


def tile(x, dims):
    """`x` repeated dims[i] times along dim i; dims shorter than x's rank count from the last
    dim (PyTorch's tile; `repeat` wants one count per dim)."""
    x = as_tensor(x)
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    return repeat(x, *((1,) * (x.ndim - len(dims)) + dims))


def ravel(x):
    """x flattened to 1-D (a view where it can be)."""
    return reshape(as_tensor(x), -1)


def unflatten(x, dim, sizes):
    """Dim `dim` split into `sizes` (one of them may be -1), as PyTorch's unflatten."""
    x = as_tensor(x)
    (axis,) = normalize_dims(dim, x.ndim, "unflatten")
    inner = resolve_shape("unflatten", (x.shape[axis],), tuple(sizes))
    return reshape(x, x.shape[:axis] + inner + x.shape[axis + 1 :])


def fliplr(x):
    """Columns in reverse order (dim 1, of a tensor of at least 2 dims)."""
    x = as_tensor(x)
    if x.ndim < 2:
        raise ShapeError(f"{op_context('fliplr')}: needs at least 2 dims, got shape {x.shape}")
    return flip(x, (1,))


def flipud(x):
    """Rows in reverse order (dim 0, of a tensor of at least 1 dim)."""
    x = as_tensor(x)
    if x.ndim < 1:
        raise ShapeError(f"{op_context('flipud')}: needs at least 1 dim, got shape {x.shape}")
    return flip(x, (0,))


def rot90(x, k=1, dims=(0, 1)):
    """Rotated by 90 degrees k times in the plane of `dims`, from the first toward the second
    (PyTorch's and NumPy's rot90): flips and a transpose."""
    x = as_tensor(x)
    if len(dims) != 2 or x.ndim < 2:
        raise ShapeError(
            f"{op_context('rot90')}: needs two dims of a tensor of at least 2 dims, got dims "
            f"{tuple(dims)} and shape {x.shape}"
        )
    first, second = (
        normalize_dims(dims[0], x.ndim, "rot90")[0],
        normalize_dims(dims[1], x.ndim, "rot90")[0],
    )
    if first == second:
        raise ShapeError(f"{op_context('rot90')}: the two dims must differ, got {tuple(dims)}")
    turns = k % 4
    if turns == 1:
        return transpose(flip(x, (second,)), first, second)
    if turns == 2:
        return flip(x, (first, second))
    if turns == 3:
        return transpose(flip(x, (first,)), first, second)
    return x


@numpy_names
def tensor_split(x, indices_or_sections, dim=0):
    """Views along `dim`: `n` near-equal pieces (the first ones one longer), or the pieces
    between the given indices, as PyTorch's tensor_split and NumPy's array_split."""
    x = as_tensor(x)
    (axis,) = normalize_dims(dim, x.ndim, "tensor_split")
    total = x.shape[axis]
    if isinstance(indices_or_sections, int):
        sections = indices_or_sections
        if sections <= 0:
            raise ValueError(
                f"{op_context('tensor_split')}: the number of sections must be positive, got "
                f"{sections}"
            )
        size, extra = divmod(total, sections)
        return split(x, [size + 1] * extra + [size] * (sections - extra), axis)
    # indices may go back (numpy's array_split then gives empty or overlapping pieces), so
    # not split's sizes
    cuts = [min(max(int(i) + (total if int(i) < 0 else 0), 0), total) for i in indices_or_sections]
    bounds = [0] + cuts + [total]
    return tuple(
        narrow(x, axis, start, max(stop - start, 0)) for start, stop in zip(bounds, bounds[1:])
    )


def _even_split(op_name, x, indices_or_sections, dim):
    x = as_tensor(x)
    if isinstance(indices_or_sections, int):
        size = x.shape[dim]
        if indices_or_sections <= 0 or size % indices_or_sections:
            raise ShapeError(
                f"{op_context(op_name)}: dim {dim} of size {size} does not split into "
                f"{indices_or_sections} equal pieces"
            )
    return tensor_split(x, indices_or_sections, dim)


def hsplit(x, indices_or_sections):
    """tensor_split along dim 1 (dim 0 of a 1-D tensor), in equal pieces when given a count."""
    x = as_tensor(x)
    return _even_split("hsplit", x, indices_or_sections, 1 if x.ndim > 1 else 0)


def vsplit(x, indices_or_sections):
    """tensor_split along dim 0 of a tensor of at least 2 dims, in equal pieces given a count."""
    x = as_tensor(x)
    if x.ndim < 2:
        raise ShapeError(f"{op_context('vsplit')}: needs at least 2 dims, got shape {x.shape}")
    return _even_split("vsplit", x, indices_or_sections, 0)


def dsplit(x, indices_or_sections):
    """tensor_split along dim 2 of a tensor of at least 3 dims, in equal pieces given a count."""
    x = as_tensor(x)
    if x.ndim < 3:
        raise ShapeError(f"{op_context('dsplit')}: needs at least 3 dims, got shape {x.shape}")
    return _even_split("dsplit", x, indices_or_sections, 2)


def atleast_1d(x):
    """x with at least 1 dim (a 0-d tensor becomes shape (1,))."""
    x = as_tensor(x)
    return reshape(x, 1) if x.ndim == 0 else x


def atleast_2d(x):
    """x with at least 2 dims: shape (n,) becomes (1, n), as NumPy's."""
    x = as_tensor(x)
    return reshape(x, (1,) * (2 - x.ndim) + x.shape) if x.ndim < 2 else x


def atleast_3d(x):
    """x with at least 3 dims: (n,) becomes (1, n, 1) and (m, n) becomes (m, n, 1), as NumPy's."""
    x = as_tensor(x)
    if x.ndim == 0:
        return reshape(x, 1, 1, 1)
    if x.ndim == 1:
        return reshape(x, 1, x.shape[0], 1)
    if x.ndim == 2:
        return unsqueeze(x, 2)
    return x


def hstack(tensors):
    """Joined along dim 1 (dim 0 for 1-D tensors)."""
    tensors = [atleast_1d(t) for t in tensors]
    return cat(tensors, 0 if tensors and tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """Joined along dim 0, 1-D tensors taken as rows."""
    return cat([atleast_2d(t) for t in tensors], 0)


def dstack(tensors):
    """Joined along dim 2, after atleast_3d."""
    return cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors):
    """1-D tensors as columns (and 0-d as one-element columns), joined along dim 1."""
    columns = []
    for t in tensors:
        t = as_tensor(t)
        columns.append(reshape(t, t.numel(), 1) if t.ndim < 2 else t)
    return cat(columns, 1)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors: with "ij" the i-th grid varies along dim i; "xy"
    swaps the first two dims, as NumPy's default. PyTorch's default is "ij"."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    tensors = [as_tensor(t) for t in tensors]
    if indexing not in ("ij", "xy"):
        raise ValueError(
            f"{op_context('meshgrid')}: indexing must be 'ij' or 'xy', not {indexing!r}"
        )
    for t in tensors:
        if t.ndim > 1:
            raise ShapeError(f"{op_context('meshgrid')}: expects 0-d or 1-D tensors, got {t.shape}")
    tensors = [reshape(t, -1) for t in tensors]
    swap = indexing == "xy" and len(tensors) >= 2
    order = [1, 0] + list(range(2, len(tensors))) if swap else list(range(len(tensors)))
    shape = tuple(tensors[i].shape[0] for i in order)
    grids = []
    for position, t in enumerate(tensors):
        axis = order.index(position)
        placed = reshape(t, tuple(-1 if d == axis else 1 for d in range(len(shape))))
        grids.append(expand(placed, *shape))
    return tuple(grids)


def diag_embed(x, offset=0, dim1=-2, dim2=-1):
    """x's last dim put on the diagonal (`offset` above it) of dims dim1, dim2 of a new tensor
    of zeros, one dim larger, as PyTorch's diag_embed: diagonal's VJP, put to use."""
    x = as_tensor(x)
    if x.ndim == 0:
        raise ShapeError(f"{op_context('diag_embed')}: needs at least 1 dim, got a 0-d tensor")
    ndim = x.ndim + 1
    first, second = _diagonal_axes("diag_embed", ndim, dim1, dim2)
    size = x.shape[-1] + abs(offset)
    lead = list(x.shape[:-1])
    shape = []
    for axis in range(ndim):
        shape.append(size if axis in (first, second) else lead.pop(0))
    return diagonal_backward(x, tuple(shape), offset, first, second)


def diagflat(x, offset=0):
    """x flattened, on the diagonal of a square matrix of zeros."""
    return diag(reshape(as_tensor(x), -1), offset)


@numpy_names
def diff(x, n=1, dim=-1, prepend=None, append=None):
    """Differences of neighbours along `dim`, taken `n` times, after joining `prepend` and
    `append` there, as PyTorch's and NumPy's diff."""
    x = as_tensor(x)
    if x.ndim == 0:
        raise ShapeError(f"{op_context('diff')}: needs at least 1 dim, got a 0-d tensor")
    (axis,) = normalize_dims(dim, x.ndim, "diff")
    pieces = [t for t in (prepend, x, append) if t is not None]
    if len(pieces) > 1:
        pieces = [as_tensor(t) for t in pieces]
        x = cat(
            [
                p
                if p.ndim
                else expand(
                    reshape(p, (1,) * x.ndim), *(x.shape[:axis] + (1,) + x.shape[axis + 1 :])
                )
                for p in pieces
            ],
            axis,
        )
    for _ in range(n):
        length = x.shape[axis]
        if length == 0:
            break
        x = narrow(x, axis, 1, length - 1) - narrow(x, axis, 0, length - 1)
    return x


@op("constant_pad", rule="dL/dx = dL/dout with the padding cut off")
def constant_pad(x, pad, value=0.0):
    """`x` with `pad` = (left, right) pairs, last dim first (F.pad's order), filled with
    `value`; a negative amount crops. Its gradient is the pad undone: constant_pad of the
    incoming gradient by the negated amounts."""
    data = x._data
    pairs = _pad_pairs(pad, data.ndim, "pad")
    crop = tuple(
        slice(max(-before, 0), size - max(-after, 0))
        for (before, after), size in zip(pairs, data.shape)
    )
    if any(size + min(b, 0) + min(a, 0) < 0 for (b, a), size in zip(pairs, data.shape)):
        raise ValueError(
            f"{op_context('pad')}: padding {tuple(pad)} crops more than the shape {data.shape} "
            "holds"
        )
    cropped = data[crop]
    out = np.pad(
        cropped,
        [(max(before, 0), max(after, 0)) for before, after in pairs],
        constant_values=value,
    )

    def vjp(grad):
        return constant_pad(grad, tuple(-amount for amount in pad))

    return out, vjp


def _pad_pairs(pad, ndim: int, name: str) -> list[tuple[int, int]]:
    """F.pad's flat (left, right, top, bottom, ...) for the last dims first, as one (before,
    after) pair per dim of an `ndim`-dim tensor."""
    try:
        amounts = [operator.index(p) for p in pad]
    except TypeError:
        raise TypeError(
            f"{op_context(name)}: pad must be a sequence of ints, got {pad!r}"
        ) from None
    if len(amounts) % 2 or len(amounts) // 2 > ndim:
        raise ValueError(
            f"{op_context(name)}: pad {tuple(pad)} must have an even length of at most twice "
            f"the {ndim} dims of the input"
        )
    pairs = [(0, 0)] * ndim
    for i in range(len(amounts) // 2):
        pairs[ndim - 1 - i] = (amounts[2 * i], amounts[2 * i + 1])
    return pairs

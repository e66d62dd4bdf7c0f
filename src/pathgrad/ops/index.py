"""Indexing. The VJP of a lookup adds the gradient back at the looked-up places, so repeated
indices accumulate, as an embedding lookup `C[X]` needs."""

from __future__ import annotations

import itertools
import math

import numpy as np

from pathgrad.errors import ShapeError, op_context
from pathgrad.ops.broadcast import broadcast_shapes, broadcast_to
from pathgrad.ops.elementwise import where
from pathgrad.ops.registry import NUMBER_TYPES, as_tensor, normalize_dims, numpy_names, op
from pathgrad.ops.shape import reshape


def normalize_index(index) -> tuple[tuple, bool]:
    """`index` as a tuple NumPy takes (tensors and lists become arrays) and whether it is
    advanced (holds an array), i.e. may repeat positions."""
    if not isinstance(index, tuple):
        index = (index,)
    items = []
    advanced = False
    for item in index:
        if isinstance(item, (str, bytes)):  # a TypeError in PyTorch (NumPy: IndexError)
            raise TypeError(
                f"{op_context('getitem')}: {item!r} is not an index: use integers, slices, "
                "None, ..., or integer or bool tensors"
            )
        if hasattr(item, "grad_fn"):
            # a copy: a rule keeps the positions it read, so a later in-place change of the
            # index tensor cannot move the gradient (PyTorch saves it and refuses instead)
            item = item._data.copy()
        elif isinstance(item, list):
            item = np.asarray(item)
        if isinstance(item, np.ndarray):
            advanced = True
            if item.dtype.kind not in "iub":
                raise IndexError(
                    f"{op_context('getitem')}: tensors used as indices must be integer or bool, "
                    f"not {item.dtype}"
                )
        items.append(item)
    if not advanced and Ellipsis not in items:
        # a trailing ... keeps a full integer index a 0-d view rather than a NumPy scalar
        items.append(Ellipsis)
    return tuple(items), advanced


def _describe(index: tuple) -> str:
    shown = []
    for item in index:
        if isinstance(item, np.ndarray):
            shown.append(f"array{item.shape}")
        elif item is Ellipsis:
            shown.append("...")
        else:
            shown.append(repr(item))
    return "[" + ", ".join(shown) + "]"


def torch_order(index, ndim: int) -> tuple[tuple, tuple] | None:
    """PyTorch applies integer indices before arrays and masks; NumPy counts an integer as one
    more array when both appear, and then moves the result's dims to the front when the arrays
    stand apart (x[0, :, [1]] is (1, n) in NumPy, (n, 1) in PyTorch); an ... between arrays
    parts them for NumPy even where it takes no dims. Returns the basic part and the array part
    (... written out), to apply one after the other, or None where NumPy's single step agrees."""
    if not isinstance(index, tuple):
        return None  # one item cannot be both
    items = index
    integers = [isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in items]
    dims = [_array_dims(i) for i in items]
    if not any(dims) or not (any(integers) or any(i is Ellipsis for i in items)):
        return None  # an ... that takes no dims still parts the arrays for NumPy, not PyTorch
    taken = sum(d or (0 if i is None or i is Ellipsis else 1) for i, d in zip(items, dims))
    basic, arrays = [], []
    for item, is_integer, array_dims in zip(items, integers, dims):
        if array_dims:
            basic.extend([slice(None)] * array_dims)
            arrays.append(item)
        elif item is Ellipsis:
            basic.append(Ellipsis)
            arrays.extend([slice(None)] * (ndim - taken))
        else:
            basic.append(item)
            if not is_integer:  # a slice keeps its dim, None makes one
                arrays.append(slice(None))
    return tuple(basic), tuple(arrays)


def _array_dims(item) -> int:
    """The dims an array index takes: 1 for integers, its own for a mask; 0 if no array."""
    data = item._data if hasattr(item, "grad_fn") else item
    if isinstance(data, list):
        data = np.asarray(data)
    if not isinstance(data, np.ndarray) or data.ndim == 0:
        return 0
    return data.ndim if data.dtype.kind == "b" else 1


def getitem(x, index):
    """x[index] with ints, slices, None, ..., integer arrays or tensors and boolean masks, in
    PyTorch's order: integers first, then arrays (see torch_order)."""
    x = as_tensor(x)
    split = None if isinstance(index, _Normalized) else torch_order(index, x._data.ndim)
    if split is None:
        return lookup(x, index)
    basic, arrays = split
    return lookup(lookup(x, basic), arrays)


def region(data, positions: tuple, op_name: str):
    """data[positions], or an IndexError naming the op, the index and the shape."""
    try:
        return data[positions]
    except IndexError as error:
        raise IndexError(
            f"{op_context(op_name)}: index {_describe(positions)} does not fit a tensor of "
            f"shape {data.shape}: {error}"
        ) from None


@op("getitem", view="maybe", rule="dL/dx = zeros(x.shape) with dL/dout added at x[index]")
def lookup(x, index):
    """x[index] as NumPy reads it: the primitive under getitem."""
    index, advanced = (
        index if isinstance(index, _Normalized) else _Normalized(*normalize_index(index))
    )
    out = region(x._data, index, "getitem")
    shape = x._data.shape

    def vjp(grad):
        return index_put_zeros(grad, shape, _Normalized(index, advanced))

    return out, vjp


class _Normalized(tuple):
    """An index already normalized, with its `advanced` flag, so rules do not redo the work."""

    def __new__(cls, index: tuple, advanced: bool):
        return super().__new__(cls, (index, advanced))


@op("index_put_zeros", rule="dL/dvalues = dL/dout[index]")
def index_put_zeros(values, shape, index):
    """Zeros of `shape` with `values` added at `index`: the VJP of getitem."""
    positions, advanced = index
    out = np.zeros(shape, dtype=values._data.dtype)
    if advanced:
        add_at(out, positions, values._data)
    else:
        out[positions] = values._data

    def vjp(grad):
        return lookup(grad, index)

    return out, vjp


def add_at(out: np.ndarray, positions: tuple, values: np.ndarray) -> None:
    """out[positions] += values, repeated positions summed (np.add.at). Where the index is
    integer arrays over the leading dims and whole slices after (an embedding lookup C[X],
    gather's positions) and the values are many, it goes through flat offsets into the 1-D
    view of `out`, where np.add.at is 2-3x faster; the sums are the same, added in the same
    order. Below a few thousand values the offsets cost what they save."""
    lead = 0
    while (
        lead < len(positions)
        and isinstance(positions[lead], np.ndarray)
        and positions[lead].dtype.kind in "iu"
    ):
        lead += 1
    rest = positions[lead:]
    whole = all(item is Ellipsis or (type(item) is slice and item == slice(None)) for item in rest)
    if not lead or not whole or values.size < _FLAT_FROM:
        np.add.at(out, positions, values)
        return
    rows = np.ravel_multi_index(positions[:lead], out.shape[:lead], "wrap")  # wraps negatives
    row_size = math.prod(out.shape[lead:])
    offsets = (rows.reshape(-1, 1) * row_size + np.arange(row_size)).reshape(-1)
    np.add.at(out.reshape(-1), offsets, values.reshape(-1))


_FLAT_FROM = 2048  # values; measured: at ~1,000 the two ways take the same time


def _gather_positions(op_name, shape, dim, index):
    """Check an index for gather/scatter and return NumPy positions and the axis."""
    ndim = len(shape)
    (axis,) = normalize_dims(dim, ndim, op_name)
    # out-of-range and misshapen indices of gather/scatter are RuntimeErrors in PyTorch
    if index.ndim != ndim:
        raise RuntimeError(
            f"{op_context(op_name)}: index has {index.ndim} dims, the tensor {ndim} "
            f"(shape {shape}); they must match"
        )
    for d in range(ndim):
        if d != axis and index.shape[d] > shape[d]:
            raise RuntimeError(
                f"{op_context(op_name)}: index of shape {index.shape} is larger than the tensor "
                f"of shape {shape} at dim {d}"
            )
    if index.size and (index.min() < 0 or index.max() >= shape[axis]):
        bad = index.min() if index.min() < 0 else index.max()
        raise RuntimeError(
            f"{op_context(op_name)}: index {bad} is out of range for dim {dim} of size "
            f"{shape[axis]}"
        )
    positions = list(np.indices(index.shape, sparse=True))
    positions[axis] = index
    return tuple(positions)


@op("gather", rule="dL/dx = zeros(x.shape).scatter_add(dim, index, dL/dout)")
def gather(x, dim, index):
    """out[i][j] = x[index[i][j]][j] for dim 0 (and likewise for other dims), as PyTorch."""
    # a user's index tensor is copied, as getitem's: the rule keeps the positions it read
    index = index._data.copy() if hasattr(index, "grad_fn") else as_tensor(index)._data
    if index.dtype.kind not in "iu":
        raise IndexError(
            f"{op_context('gather')}: index must be an integer tensor, not {index.dtype}"
        )
    shape = x._data.shape
    positions = _gather_positions("gather", shape, dim, index)

    def vjp(grad):
        return scatter_add_zeros(grad, dim, index, shape)

    return x._data[positions], vjp


@op("scatter_add_zeros", rule="dL/dsrc = dL/dout.gather(dim, index)")
def scatter_add_zeros(src, dim, index, shape):
    """Zeros of `shape` with src[i][j] added at [index[i][j]][j] (dim 0): the VJP of gather."""
    positions = _gather_positions("scatter_add", shape, dim, index)
    out = np.zeros(shape, dtype=src._data.dtype)
    add_at(out, positions, src._data)

    def vjp(grad):
        return gather(grad, dim, index)

    return out, vjp


@op("scatter_zeros", rule="dL/dsrc = dL/dout.gather(dim, index)")
def scatter_zeros(src, dim, index, shape):
    """Zeros of `shape` with src[i][j] put at [index[i][j]][j] (dim 0): scatter's values. Where
    index names a position twice, one of its values lands there and each gets the gradient of
    that position, as in PyTorch (whose docs leave the value undefined)."""
    positions = _gather_positions("scatter", shape, dim, index)
    out = np.zeros(shape, dtype=src._data.dtype)
    out[positions] = src._data

    def vjp(grad):
        return gather(grad, dim, index)

    return out, vjp


def scatter(x, dim, index, src=None, *, value=None, reduce=None):
    """x with src[i][j] put at [index[i][j]][j] (for dim 0; likewise for other dims), or the
    number `value` (also given as src), as PyTorch's scatter: only src's first index.shape
    elements are used. x's gradient is grad where nothing was put; src's is grad gathered at
    index."""
    if reduce is not None:
        raise NotImplementedError(
            f"{op_context('scatter')}: reduce= is deprecated in PyTorch and not in pathgrad; "
            "use scatter_add for reduce='add'"
        )
    if (src is None) == (value is None):
        raise TypeError(f"{op_context('scatter')}: give one of src (a tensor) or value")
    x, index = _scatter_index("scatter", x, index)
    filled = src if value is None else value
    if isinstance(filled, NUMBER_TYPES):
        # the number takes the tensor's dtype, as PyTorch casts it
        filled = as_tensor(np.asarray(filled, dtype=x._data.dtype))
    else:
        filled = scatter_zeros(
            _scatter_source("scatter", x, index, filled), dim, index._data, x.shape
        )
    hit = np.zeros(x.shape, dtype=bool)
    hit[_gather_positions("scatter", x.shape, dim, index._data)] = True
    return where(hit, filled, x)


def scatter_add(x, dim, index, src):
    """x with src[i][j] added at [index[i][j]][j] (for dim 0; likewise for other dims), as
    PyTorch's scatter_add: repeated positions accumulate, and only src's first index.shape
    elements are used. x's gradient is grad; src's is grad gathered at index."""
    x, index = _scatter_index("scatter_add", x, index)
    src = _scatter_source("scatter_add", x, index, src)
    return x + scatter_add_zeros(src, dim, index._data, x.shape)


def _scatter_index(op_name, x, index):
    x, index = as_tensor(x), as_tensor(index)
    if index._data.dtype.kind not in "iu":
        raise IndexError(f"{op_context(op_name)}: index must be integer, not {index.dtype}")
    return x, index


def _scatter_source(op_name, x, index, src):
    """src checked against x and index, cut to index's shape (PyTorch reads no more of it)."""
    src = as_tensor(src)
    if src._data.dtype != x._data.dtype:
        raise TypeError(
            f"{op_context(op_name)}: src has dtype {src.dtype}, the tensor {x.dtype}; "
            "they must match, as in PyTorch"
        )
    if src.ndim != index.ndim or any(n > m for n, m in zip(index.shape, src.shape)):
        raise IndexError(
            f"{op_context(op_name)}: index of shape {index.shape} is larger than src of "
            f"shape {src.shape}"
        )
    if src.shape != index.shape:
        src = src[tuple(slice(0, n) for n in index.shape)]
    return src


def index_add(x, dim, index, source, alpha=1):
    """x with alpha * source's slices added at the positions `index` (1-D) along `dim`, as
    PyTorch's index_add: repeated positions accumulate."""
    x, source, index = as_tensor(x), as_tensor(source), as_tensor(index)
    (axis,) = normalize_dims(dim, x.ndim, "index_add")
    if index.ndim != 1 or index._data.dtype.kind not in "iu":
        raise IndexError(
            f"{op_context('index_add')}: index must be a 1-D integer tensor, got shape "
            f"{index.shape} and dtype {index.dtype}"
        )
    spread = spread_index("index_add", x, axis, index._data, source)
    added = source if alpha == 1 else source * alpha
    return scatter_add(x, axis, spread, added)


def spread_index(op_name, x, axis, positions, source):
    """The 1-D `positions` along `axis` as scatter's index: spread over source's other dims, so
    each source slice goes to its position (index_add, index_copy, index_reduce). source must
    have x's shape but for len(positions) along axis."""
    expected = x.shape[:axis] + (positions.size,) + x.shape[axis + 1 :]
    if source.shape != expected:
        raise IndexError(
            f"{op_context(op_name)}: source has shape {source.shape}; for index of length "
            f"{positions.size} along dim {axis} of a tensor of shape {x.shape} it must be "
            f"{expected}"
        )
    return np.broadcast_to(positions.reshape((-1,) + (1,) * (x.ndim - axis - 1)), expected)


def index_select(x, dim, index):
    """The entries at `index` (1-D, integer) along `dim`."""
    x = as_tensor(x)
    (axis,) = normalize_dims(dim, x.ndim, "index_select")
    index = as_tensor(index)
    positions = index._data.reshape(-1)
    if index.ndim > 1 or positions.dtype.kind not in "iu":
        raise IndexError(
            f"{op_context('index_select')}: index must be a 1-D integer tensor, got shape "
            f"{index.shape} and dtype {index.dtype}"
        )
    size = x.shape[axis]
    if positions.size and (positions.min() < 0 or positions.max() >= size):
        # PyTorch refuses negative positions here, where indexing would count from the end
        bad = positions[(positions < 0) | (positions >= size)][0]
        raise IndexError(
            f"{op_context('index_select')}: index {bad} is out of range for dim {axis} of size "
            f"{size} (expected 0 to {size - 1})"
        )
    return x[(slice(None),) * axis + (positions,)]


@op("one_hot", differentiable=False)
def one_hot(x, num_classes=-1):
    """Class indices to one-hot rows (int64), as PyTorch's F.one_hot."""
    labels = x._data
    if labels.dtype.kind not in "iu":  # dtype errors are RuntimeErrors in PyTorch
        raise RuntimeError(
            f"{op_context('one_hot')}: expects an integer tensor of class indices, "
            f"not {labels.dtype}"
        )
    if num_classes == -1:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise RuntimeError(
            f"{op_context('one_hot')}: class values must be in [0, {num_classes}), got "
            f"[{labels.min()}, {labels.max()}]"
        )
    return np.eye(num_classes, dtype=np.int64)[labels], None


@op(
    "index_put",
    inputs=2,
    rule="dL/dx = dL/dout with x[index] set to 0; dL/dvalues = dL/dout[index]",
)
def index_put(x, values, index):
    """A copy of `x` with `x[index] = values`; `values` already has the indexed region's shape
    (or is a number). Out of place: `Tensor.__setitem__` runs it as an in-place change."""
    positions, advanced = (
        index if isinstance(index, _Normalized) else _Normalized(*normalize_index(index))
    )
    normalized = _Normalized(positions, advanced)
    out = x._data.copy()
    try:
        out[positions] = values if type(values) in (int, float, bool) else values._data
    except IndexError as error:
        raise IndexError(
            f"{op_context('setitem')}: index {_describe(positions)} does not fit a tensor of "
            f"shape {x._data.shape}: {error}"
        ) from None
    # the overwritten places pass no gradient to x; values get what reached them
    return out, (
        lambda grad: index_put(grad, 0.0, normalized),
        lambda grad: lookup(grad, normalized),
    )


# Compositions PyTorch offers by name: lookups through getitem, gather and scatter, no rules.


def take(x, index):
    """x's elements at `index` in its flattened order; the result has index's shape."""
    x, index = as_tensor(x), as_tensor(index)
    if index._data.dtype.kind not in "iu":
        raise IndexError(f"{op_context('take')}: index must be integer, not {index.dtype}")
    return getitem(reshape(x, -1), index)


def take_along_dim(x, indices, dim=None):
    """gather with broadcasting: x and indices are broadcast over every dim but `dim` (both
    flattened when dim is None), as PyTorch's take_along_dim and NumPy's take_along_axis."""
    x, indices = as_tensor(x), as_tensor(indices)
    if dim is None:
        return gather(reshape(x, -1), 0, indices._data.reshape(-1))
    (axis,) = normalize_dims(dim, x.ndim, "take_along_dim")
    if indices.ndim != x.ndim:
        raise IndexError(
            f"{op_context('take_along_dim')}: indices have {indices.ndim} dims, the tensor "
            f"{x.ndim} (shape {x.shape}); they must match"
        )
    others = broadcast_shapes(
        "take_along_dim",
        x.shape[:axis] + (1,) + x.shape[axis + 1 :],
        indices.shape[:axis] + (1,) + indices.shape[axis + 1 :],
    )
    x_shape = others[:axis] + (x.shape[axis],) + others[axis + 1 :]
    index_shape = others[:axis] + (indices.shape[axis],) + others[axis + 1 :]
    if x.shape != x_shape:
        x = broadcast_to(x, x_shape)
    return gather(x, axis, np.broadcast_to(indices._data, index_shape))


def masked_select(x, mask):
    """x's elements where `mask` holds (both broadcast), as a 1-D tensor in row-major order."""
    x, mask = as_tensor(x), as_tensor(mask)
    if mask._data.dtype != bool:
        raise TypeError(f"{op_context('masked_select')}: mask must be boolean, not {mask.dtype}")
    shape = broadcast_shapes("masked_select", x.shape, mask.shape)
    if x.shape != shape:
        x = broadcast_to(x, shape)
    return getitem(x, np.broadcast_to(mask._data, shape))


def nonzero(x, *, as_tuple=False):
    """Positions of the nonzero elements, not differentiable: an (n, ndim) int64 tensor, or
    with as_tuple one 1-D tensor per dim (a 0-d tensor counts as 1-D), as PyTorch's."""
    data = as_tensor(x)._data
    positions = np.argwhere(data.reshape(1) if data.ndim == 0 and as_tuple else data)
    if not as_tuple:
        return as_tensor(positions.astype(np.int64, copy=False))
    return tuple(as_tensor(positions[:, d].astype(np.int64)) for d in range(positions.shape[1]))


@numpy_names
def repeat_interleave(x, repeats, dim=None, *, output_size=None):
    """Each element repeated `repeats` times (a number, or one count per element along `dim`),
    along `dim` (of the flattened tensor when dim is None), as PyTorch's repeat_interleave:
    an index_select, so gradients add back."""
    x = as_tensor(x)
    if dim is None:
        x, axis = reshape(x, -1), 0
    else:
        (axis,) = normalize_dims(dim, x.ndim, "repeat_interleave")
    size = x.shape[axis] if x.ndim else 1
    counts = np.asarray(repeats._data if hasattr(repeats, "_data") else repeats)
    if (
        counts.dtype.kind not in "iu"
        or counts.ndim > 1
        or (counts.ndim == 1 and counts.size not in (1, size))
        or (counts < 0).any()
    ):
        raise ValueError(
            f"{op_context('repeat_interleave')}: repeats must be a non-negative integer or one "
            f"per element ({size}) along the dim, got {counts.tolist()}"
        )
    index = np.repeat(np.arange(size), np.broadcast_to(counts.reshape(-1), (size,)))
    if output_size is not None and output_size != index.size:
        raise ValueError(
            f"{op_context('repeat_interleave')}: output_size {output_size} differs from the "
            f"repeated size {index.size}"
        )
    return index_select(x if x.ndim else reshape(x, 1), axis, index)


def index_fill(x, dim, index, value):
    """x with the slices at `index` along `dim` set to the number `value` (or a 0-d tensor);
    they get no gradient."""
    x = as_tensor(x)
    (axis,) = normalize_dims(dim, x.ndim, "index_fill")
    positions = _index_positions("index_fill", x, axis, index)
    hit = np.zeros(x.shape[axis] if x.ndim else 1, dtype=bool)
    hit[positions] = True
    mask = hit.reshape((-1,) + (1,) * (x.ndim - axis - 1)) if x.ndim else hit.reshape(())
    if isinstance(value, NUMBER_TYPES):
        value = as_tensor(np.asarray(value, dtype=x._data.dtype))  # the tensor's dtype, as PyTorch
    return where(np.broadcast_to(mask, x.shape), value, x)


def index_copy(x, dim, index, source):
    """x with source's slices put at the positions `index` along `dim` (PyTorch's index_copy;
    a position given twice gets one of them). x's gradient is zero there, source's the slices
    of grad it went to."""
    x, source = as_tensor(x), as_tensor(source)
    (axis,) = normalize_dims(dim, x.ndim, "index_copy")
    positions = _index_positions("index_copy", x, axis, index)
    return scatter(x, axis, spread_index("index_copy", x, axis, positions, source), source)


def _index_positions(op_name, x, axis, index):
    positions = np.asarray(index._data if hasattr(index, "_data") else index).reshape(-1)
    if positions.dtype.kind not in "iu":
        raise IndexError(f"{op_context(op_name)}: index must be integer, not {positions.dtype}")
    size = x.shape[axis] if x.ndim else 1
    if positions.size and (positions.min() < -size or positions.max() >= size):
        raise IndexError(
            f"{op_context(op_name)}: index {positions.tolist()} is out of range for dim {axis} "
            f"of size {size}"
        )
    return positions % size if positions.size else positions


def where_or_positions(condition, input=None, other=None):
    """pg.where: where(condition, input, other) (elementwise, broadcast), or with the condition
    alone its nonzero positions, one tensor per dim, as PyTorch's where(condition)."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    return where(condition, input, other)


def index_put_values(x, indices, values, accumulate=False):
    """pg.index_put: x with x[indices] = values (broadcast to the indexed region), or += with
    accumulate, where repeated positions add up, as PyTorch's index_put."""
    x = as_tensor(x)
    positions, advanced = normalize_index(tuple(indices))
    normalized = _Normalized(positions, advanced)
    region_shape = region(x._data, positions, "index_put").shape
    values = as_tensor(values)
    if values.shape != region_shape:
        broadcast_shapes("index_put", values.shape, region_shape)  # names a misfit by its shapes
        values = broadcast_to(values, region_shape)
    if accumulate:
        return x + index_put_zeros(values, x.shape, normalized)
    return index_put(x, values, normalized)


def select_scatter(x, src, dim, index):
    """x with its slice at `index` along `dim` replaced by src (which has the slice's shape),
    as PyTorch's select_scatter; out of place."""
    x, src = as_tensor(x), as_tensor(src)
    (axis,) = normalize_dims(dim, x.ndim, "select_scatter")
    size = x.shape[axis]
    if not -size <= index < size:
        raise IndexError(
            f"{op_context('select_scatter')}: index {index} is out of range for dim {axis} of "
            f"size {size}"
        )
    return index_copy(
        x, axis, [index % size], reshape(src, src.shape[:axis] + (1,) + src.shape[axis:])
    )


def slice_scatter(x, src, dim=0, start=None, end=None, step=1):
    """x with the slice start:end:step along `dim` replaced by src, as PyTorch's
    slice_scatter; out of place."""
    x = as_tensor(x)
    (axis,) = normalize_dims(dim, x.ndim, "slice_scatter")
    positions = list(range(x.shape[axis]))[slice(start, end, step)]
    return index_copy(x, axis, positions, src)


def combinations(x, r=2, with_replacement=False):
    """The r-element combinations of the 1-D x's elements, one per row (itertools' order), as
    PyTorch's combinations: a lookup, so gradients add back."""
    x = as_tensor(x)
    if x.ndim != 1:
        raise ShapeError(f"{op_context('combinations')}: expects a 1-D tensor, got {x.shape}")
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = np.array(list(pick(range(x.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    if r == 0 or rows.size == 0:
        return as_tensor(np.zeros((0,) if r == 0 else (0, r), x._data.dtype))
    return getitem(x, rows)


def unravel_index(indices, shape):
    """The coordinates in `shape` of flat indices: one int64 tensor per dim."""
    flat = as_tensor(indices)._data
    return tuple(as_tensor(np.asarray(c, dtype=np.int64)) for c in np.unravel_index(flat, shape))

"""Tensor methods: indexing: [] in both directions, gather, scatter, index_* and masked selection.

`METHODS` names each method beside the function it binds (`pathgrad.methods.bind`); a
method whose arguments differ from its op's is a short function here."""

from __future__ import annotations

from pathgrad import inplace
from pathgrad.ops import broadcast, index
from pathgrad.ops.registry import NUMBER_TYPES
from pathgrad.tensor import Tensor, as_tensor


def __setitem__(self, key, value) -> None:
    split = index.torch_order(key, self._data.ndim)
    if split is not None:  # integers first, then arrays, as PyTorch reads the index
        basic, arrays = split
        self[basic][arrays] = value
        return
    positions = index._Normalized(*index.normalize_index(key))
    region = index.region(self._data, positions[0], "setitem")
    if type(value) is Tensor and inplace.same_memory(value._data, region):
        return  # `x[i] *= 2` ends by storing the changed view into itself: nothing to do
    if type(value) not in NUMBER_TYPES:
        value = as_tensor(value)
        extra = value._data.ndim - region.ndim
        if extra > 0 and not any(size != 1 for size in value._data.shape[:extra]):
            # leading 1s drop, as NumPy's and PyTorch's assignment drops them: x[i] = v[None]
            value = value.reshape(value._data.shape[extra:])
        if not broadcast.broadcasts_to(value._data.shape, region.shape):
            raise RuntimeError(
                f"setitem: a value of shape {value._data.shape} cannot be broadcast to the "
                f"indexed part, of shape {region.shape} (as in PyTorch, a RuntimeError)"
            )
        value = broadcast.broadcast_to(value, region.shape)
    inplace.in_place(self, "setitem", lambda old: index.index_put(old, value, positions))


def gather(self, dim, index_):
    return index.gather(self, dim, index_)


def index_select(self, dim, index_):
    return index.index_select(self, dim, index_)


def scatter(self, dim, index_, src=None, *, value=None, reduce=None):
    return index.scatter(self, dim, index_, src, value=value, reduce=reduce)


def scatter_add(self, dim, index_, src):
    return index.scatter_add(self, dim, index_, src)


def index_add(self, dim, index_, source, alpha=1):
    return index.index_add(self, dim, index_, source, alpha=alpha)


def take(self, index_):
    return index.take(self, index_)


def argwhere(self):
    return index.nonzero(self)


def index_fill(self, dim, index_, value):
    return index.index_fill(self, dim, index_, value)


def index_copy(self, dim, index_, source):
    return index.index_copy(self, dim, index_, source)


def select_scatter(self, src, dim, index_):
    return index.select_scatter(self, src, dim, index_)


METHODS = {
    "__setitem__": __setitem__,
    "__getitem__": index.getitem,
    "gather": gather,
    "index_select": index_select,
    "scatter": scatter,
    "scatter_add": scatter_add,
    "index_add": index_add,
    "take": take,
    "take_along_dim": index.take_along_dim,
    "masked_select": index.masked_select,
    "nonzero": index.nonzero,
    "argwhere": argwhere,
    "repeat_interleave": index.repeat_interleave,
    "index_fill": index_fill,
    "index_copy": index_copy,
    "index_put": index.index_put_values,
    "select_scatter": select_scatter,
    "slice_scatter": index.slice_scatter,
}

"""Tensor methods: views and changes of shape: reshape, permute, expand, split, flip, ....

`METHODS` names each method beside the function it binds (`pathgrad.methods.bind`); a
method whose arguments differ from its op's is a short function here."""

from __future__ import annotations

from pathgrad.ops import broadcast, elementwise, shape
from pathgrad.ops import shape as shape_ops


def reshape(self, *shape_):
    return shape.reshape(self, *shape_)


def contiguous(self):
    """This tensor if its memory is in row-major order, else a row-major copy (in the graph)."""
    return self if self._data.flags.c_contiguous else elementwise.clone(self)


def is_contiguous(self) -> bool:
    return bool(self._data.flags.c_contiguous)


def permute(self, *dims):
    return shape.permute(self, *dims)


def expand(self, *sizes):
    return shape.expand(self, *sizes)


def expand_as(self, other):
    return broadcast.broadcast_to(self, other.shape)


def view_as(self, other):
    return shape_ops.view(self, other.shape)


def reshape_as(self, other):
    return shape.reshape(self, other.shape)


def select(self, dim, index_):
    return shape_ops.select(self, dim, index_)


def broadcast_to(self, shape_):
    return broadcast.broadcast_to(self, shape_)


def flip(self, *dims):
    return shape_ops.flip(self, dims[0] if len(dims) == 1 else dims)  # flip(0, 1) too


def repeat(self, *sizes):
    return shape.repeat(self, *sizes)


def tile(self, *dims):
    return shape_ops.tile(self, dims[0] if len(dims) == 1 else dims)


METHODS = {
    "tril": shape_ops.tril,
    "diagonal": shape_ops.diagonal,
    "unfold": shape_ops.unfold,
    "diag": shape_ops.diag,
    "trace": shape_ops.trace,
    "triu": shape_ops.triu,
    "roll": shape_ops.roll,
    "reshape": reshape,
    "view": shape_ops.view,
    "contiguous": contiguous,
    "is_contiguous": is_contiguous,
    "transpose": shape_ops.transpose,
    "swapaxes": shape_ops.transpose,
    "permute": permute,
    "squeeze": shape_ops.squeeze,
    "unsqueeze": shape_ops.unsqueeze,
    "expand": expand,
    "expand_as": expand_as,
    "view_as": view_as,
    "reshape_as": reshape_as,
    "movedim": shape_ops.movedim,
    "ravel": shape_ops.ravel,
    "select": select,
    "unbind": shape_ops.unbind,
    "broadcast_to": broadcast_to,
    "flatten": shape_ops.flatten,
    "flip": flip,
    "repeat": repeat,
    "narrow": shape.narrow,
    "split": shape_ops.split,
    "chunk": shape_ops.chunk,
    "tile": tile,
    "unflatten": shape_ops.unflatten,
    "fliplr": shape_ops.fliplr,
    "flipud": shape_ops.flipud,
    "rot90": shape_ops.rot90,
    "tensor_split": shape_ops.tensor_split,
    "hsplit": shape_ops.hsplit,
    "vsplit": shape_ops.vsplit,
    "dsplit": shape_ops.dsplit,
    "diag_embed": shape_ops.diag_embed,
    "diagflat": shape_ops.diagflat,
    "diff": shape_ops.diff,
}

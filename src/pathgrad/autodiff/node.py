"""A recorded op: the graph's unit of work during the reverse sweep."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pathgrad.autodiff import versions


class Node:
    """One call of an op: its definition, its VJP closure and the ordered edges to its inputs.

    `parents[i]` is where input i's gradient goes: the Node that produced it, the leaf tensor
    itself (which accumulates into `.grad`), or None when input i needs no gradient. Nodes point
    to inputs only, never to their own output tensor, so a graph has no reference cycles and
    memory returns as soon as the last tensor using it goes.
    """

    __slots__ = (
        "definition",
        "vjp",
        "parents",
        "shape",
        "dtype",
        "saved_out",
        "epoch",
        "__weakref__",
        "__dict__",
    )
    # Rarely set, so class defaults rather than per-node stores on the hot path: hooks on a
    # non-leaf tensor, the inputs gradcheck asks to keep.
    hooks = None
    inputs = None

    def __init__(
        self,
        definition: Any,
        vjp: Callable[..., Any],
        parents: tuple,
        shape: tuple,
        dtype: Any,
        saved_out: Any = None,
    ) -> None:
        self.definition = definition
        self.vjp = vjp
        self.parents = parents
        self.shape = shape
        self.dtype = dtype
        self.saved_out = saved_out
        # the in-place epoch it was made in: if none came since, nothing it saved has changed
        self.epoch = versions.epoch

    @property
    def name(self) -> str:
        return self.definition.name

    def release(self) -> None:
        """Drop what the rule saved, keeping the graph's shape; a second backward then says so."""
        self.vjp = None
        self.saved_out = None
        if self.inputs is not None:
            self.inputs = None

    def __repr__(self) -> str:
        return f"<{self.name} node, output {self.shape} {self.dtype}>"

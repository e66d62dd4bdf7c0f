"""A recorded op: the graph's unit of work during the reverse sweep."""

from __future__ import annotations

from pathgrad.errors import site_location


class Node:
    """One call of an op: its definition, its VJP closure and the ordered edges to its inputs.

    `parents[i]` is where input i's gradient goes: the Node that produced it, the leaf tensor
    itself (which accumulates into `.grad`), or None when input i needs no gradient. Nodes point
    to inputs only, never to their own output tensor, so a graph has no reference cycles and
    memory returns as soon as the last tensor using it goes.

    Fields: `definition` (the op), `vjp` (its rule for this call), `parents`, the output's
    `shape` and `dtype` (what gradients are checked against), `saved_out` (the output array,
    for ops whose rule uses it), `epoch`, the in-place epoch it was made in: if no in-place
    change came since, nothing it saved can have changed, and the user's line that made it, as
    a code object and bytecode offset (`site_code`, `site_offset`; turned into `file:line` only
    for a message, and holding no frame, so no locals are kept alive). Nodes are made only in
    `pathgrad.dispatch`, which fills the fields directly (it is every op's hot path).
    """

    __slots__ = (
        "definition",
        "vjp",
        "parents",
        "shape",
        "dtype",
        "saved_out",
        "epoch",
        "site_code",
        "site_offset",
        "__weakref__",
        "__dict__",
    )
    # Rarely set, so class defaults rather than per-node stores on the hot path: hooks on a
    # non-leaf tensor, the inputs gradcheck asks to keep.
    hooks = None
    inputs = None

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def site(self) -> str:
        """`model.py:42`, the user's line that made this node ('' if none was found)."""
        code = self.site_code
        return "" if code is None else site_location(code, self.site_offset)

    def release(self) -> None:
        """Drop what the rule saved, keeping the graph's shape; a second backward then says so."""
        self.vjp = None
        self.saved_out = None
        if self.inputs is not None:
            self.inputs = None

    def __repr__(self) -> str:
        return f"<{self.name} node, output {self.shape} {self.dtype}>"

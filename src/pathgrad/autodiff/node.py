"""A recorded op: the graph's unit of work during the reverse sweep, and the one way to make one."""

from __future__ import annotations

from typing import Any

import numpy as np

from pathgrad.autodiff import versions
from pathgrad.autodiff.grad_mode import engine
from pathgrad.errors import site_location


class Node:
    """One call of an op: its definition, its VJP closure and the ordered edges to its inputs.

    `parents[i]` is where input i's gradient goes: the Node that produced it, the leaf tensor
    itself (which accumulates into `.grad`), or None when input i needs no gradient. Nodes point
    to inputs only, never to their own output tensor, so a graph has no reference cycles and
    memory returns as soon as the last tensor using it goes. `shape` and `dtype` are the
    output's (what gradients are checked against), `saved_out` the output array for rules that
    use it, `epoch` the in-place epoch it was made in (see versions.py), and `site_code` and
    `site_offset` the user's line that made it (code and bytecode offset: no frame, so no locals
    are kept alive; written out as `file:line` only for a message).
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
    # rarely set, so class defaults rather than per-node stores on the hot path: hooks on a
    # non-leaf tensor, the inputs kept for explain and gradcheck
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

    def __repr__(self) -> str:
        return f"<{self.name} node, output {self.shape} {self.dtype}>"


def make_node(
    definition: Any,
    vjp: Any,
    parents: tuple,
    out: np.ndarray,
    saved_out: Any,
    site: Any,
    args: tuple,
    kwargs: dict,
) -> Node:
    """The node of one op call with output array `out`; `site` is the user's frame (or None);
    the call's `args` and `kwargs` are kept only where the engine variant asks."""
    node = _new(Node)  # Node's fields without a call to __init__: every op's node is made here
    node.definition = definition
    node.vjp = vjp
    node.parents = parents
    node.shape = out.shape
    node.dtype = out.dtype
    node.saved_out = saved_out
    node.epoch = versions.epoch
    if site is None:
        node.site_code = None
    else:
        node.site_code = site.f_code
        node.site_offset = site.f_lasti
    if engine.keep_inputs:
        node.inputs = (args, kwargs)
    return node


_new = object.__new__

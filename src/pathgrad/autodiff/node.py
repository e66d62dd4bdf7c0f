"""A recorded op: the graph's unit of work during the reverse sweep, and the one way to make one."""

from __future__ import annotations

from typing import Any

import numpy as np

from pathgrad.autodiff import versions
from pathgrad.autodiff.grad_mode import engine
from pathgrad.errors import site_location


class Node:
    """One call of an op: its definition, its VJP closure and the ordered edges to its inputs.

    `parents[i]` is where input i's gradient goes: the Node that made it, the leaf tensor itself
    (which accumulates into `.grad`), or None when input i needs no gradient. Nodes never point
    to their own output, so a graph holds no reference cycle. `shape` and `dtype` are the
    output's (gradients are checked against them), `saved_out` the output array for rules that
    use it, `epoch` the in-place epoch it was made in (versions.py), `site_code` and
    `site_offset` the user's line that made it (no frame, so no locals kept alive).
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
    hooks = None  # rarely set, so class defaults: hooks on a non-leaf tensor,
    inputs = None  # and the inputs kept for explain and gradcheck

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
    site_code: Any,
    site_offset: Any,
    args: tuple,
    kwargs: dict,
) -> Node:
    """The node of one op call with output array `out`, made at `site_code`'s bytecode offset
    `site_offset` (None: no line known); the call's `args` and `kwargs` are kept only where the
    engine variant asks."""
    node = _new(Node)  # the fields without a call to __init__: every op's node is made here
    node.definition = definition
    node.vjp = vjp
    node.parents = parents
    node.shape = out.shape
    node.dtype = out.dtype
    node.saved_out = saved_out
    node.epoch = versions.epoch
    node.site_code = site_code
    node.site_offset = site_offset
    if engine.keep_inputs:
        node.inputs = (args, kwargs)
    return node


_new = object.__new__

"""A recorded op: the graph's unit of work during the reverse sweep, and the one way to make one."""

from __future__ import annotations

from pathgrad import versions
from pathgrad.autodiff.grad_mode import engine
from pathgrad.errors import site_location


class Node:
    """One call of an op: its definition, its VJP closure and the ordered edges to its inputs.

    `parents[i]` is where input i's gradient goes: the Node that made it, the leaf tensor itself
    (which accumulates into `.grad`), or None when input i needs no gradient; never the node's
    own output, so a graph holds no reference cycle. `vjp` is the rule, or one formula per input
    (None where no gradient is needed). `shape` and `dtype` are the output's (gradients are
    checked against them), `saved_out` its array where the rule uses it, `epoch` the in-place
    epoch it was made in, `site_code` and `site_offset` the user's line (no frame kept).
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
    def saved(self) -> list:
        """The tensors its rule states it saved (as save_for_backward): its default arguments
        (`def vjp(grad, x=x)`, a tensor or a list of them), of the formulas kept."""
        vjp = self.vjp
        return [
            item
            for rule in (vjp if type(vjp) is tuple else (vjp,))
            if rule is not None
            for value in rule.__defaults__ or ()
            for item in (value if isinstance(value, (tuple, list)) else (value,))
            if hasattr(item, "_version_count")  # a tensor (or Parameter), not an option
        ]

    @property
    def site(self) -> str:
        """`model.py:42`, the user's line that made this node ('' if none was found)."""
        code = self.site_code
        return "" if code is None else site_location(code, self.site_offset)

    def __repr__(self) -> str:
        return f"<{self.name} node, output {self.shape} {self.dtype}>"


def make_node(definition, vjp, parents, out, saved_out, site_code, site_offset, args, kwargs):
    """The node of one op call with output array `out`, made at `site_code`'s bytecode offset
    `site_offset` (None: none known), keeping `args` and `kwargs` where the variant asks."""
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

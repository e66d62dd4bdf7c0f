"""Methods made from other methods: reflected operators and in-place variants."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from pathgrad import inplace


def reflected(op: Callable[..., Any]) -> Callable[..., Any]:
    """`other <op> self`, for the reflected operator (`__radd__` of `add`): Python calls it
    when the left operand, a number or an array, does not handle the operation itself."""

    def reflected_op(self: Any, other: Any) -> Any:
        return op(other, self)

    reflected_op.__module__ = __name__

    reflected_op.__doc__ = f"`other` {op.__name__} this tensor."
    return reflected_op


def in_place(name: str, method: Callable[..., Any], keeps_old: bool) -> Callable[..., Any]:
    """The in-place variant `name_` of the out-of-place `method`, as PyTorch derives one from
    its derivatives.yaml entry: the new value is `method` on the old one, written into this
    tensor's memory and recorded (`inplace.in_place`). `keeps_old`: the op's rule reads its
    input, so the old value is copied before the write (a rule that reads only its output, or
    nothing, needs no copy)."""
    changed_name = name + "_"

    def changed_in_place(self: Any, *args: Any, **kwargs: Any) -> Any:
        return inplace.in_place(
            self, changed_name, lambda old: method(old, *args, **kwargs), keeps_old=keeps_old
        )

    changed_in_place.__name__ = changed_name
    changed_in_place.__qualname__ = f"Tensor.{changed_name}"
    changed_in_place.__doc__ = f"`{name}`, written into this tensor's memory (recorded)."
    changed_in_place.__signature__ = inspect.signature(method)  # type: ignore[attr-defined]
    return changed_in_place

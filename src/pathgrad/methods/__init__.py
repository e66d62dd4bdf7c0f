"""Tensor's method surface, generated from tables: one module per family of ops, each with a
`METHODS` table that spells out every method's name beside the function it binds.

`bind(Tensor)` sets them on the class once, at import, all the same way: the family tables
first, then the shared aliases (`aliases.ALIASES`, which the `pathgrad` namespace uses too),
then the in-place variants derived from their out-of-place methods (`inplace.IN_PLACE`), then
the names PyTorch gives only as methods (`x += y` is `add_`). `tensor.py` keeps what is the
tensor's own: its state, `.grad`, hooks and conversions.

Adding an op takes: its forward and rule (`@op` in `pathgrad/ops/`), its sample inputs in
`tests/op_cases.py`, its name in the `pathgrad` namespace (`__init__.py`'s imports and
`__all__`), and, where PyTorch also has it as a method, one line in the family's `METHODS`
(and in `IN_PLACE` for an in-place variant). Tests check that each of these is there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pathgrad.methods import compare, derive, elementwise, index, inplace, linalg, reduce, shape
from pathgrad.methods.aliases import ALIASES, METHOD_ALIASES

FAMILIES = (elementwise, compare, reduce, shape, index, linalg, inplace)


def family_methods() -> dict[str, Callable[..., Any]]:
    """Every family's table, merged; a name given twice is a mistake, refused here."""
    merged: dict[str, Callable[..., Any]] = {}
    for family in FAMILIES:
        for name, method in family.METHODS.items():
            if name in merged:
                raise ValueError(f"Tensor method {name!r} is bound by two families")
            merged[name] = method
    return merged


def bind(tensor_type: type) -> None:
    """Set every method of the tables on `tensor_type`."""
    for name, method in family_methods().items():
        if method.__module__.startswith(__name__):  # written for Tensor: named as its method
            method.__name__, method.__qualname__ = name, f"{tensor_type.__name__}.{name}"
        setattr(tensor_type, name, method)
    bind_aliases(tensor_type.__dict__, lambda alias, target: setattr(tensor_type, alias, target))
    for name, keeps_old in inplace.IN_PLACE.items():
        changed_name = name + "_"
        setattr(
            tensor_type, changed_name, derive.in_place(name, getattr(tensor_type, name), keeps_old)
        )
    for alias, name in METHOD_ALIASES.items():
        setattr(tensor_type, alias, getattr(tensor_type, name))


def bind_aliases(names: Any, set_alias: Callable[[str, Any], None]) -> None:
    """Each alias in ALIASES whose target `names` holds, set to that target."""
    for alias, target in ALIASES.items():
        if target in names:
            set_alias(alias, names[target])


__all__ = ["ALIASES", "FAMILIES", "METHOD_ALIASES", "bind", "bind_aliases", "family_methods"]

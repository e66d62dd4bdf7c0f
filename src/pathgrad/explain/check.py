"""`pg.check_grad`: grade a hand-derived gradient against the engine's, as the backprop
exercise does (exact? approximately? the largest difference, and where)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from pathgrad.tensor import Tensor


@dataclass
class GradComparison:
    """One hand-derived gradient against the engine's."""

    name: str
    exact: bool
    approximate: bool
    largest_difference: float
    differing: list[tuple[int, ...]]  # indices beyond the tolerance (at most 10 shown)
    shape_error: str = ""

    @property
    def ok(self) -> bool:
        return self.approximate and not self.shape_error

    def __str__(self) -> str:
        if self.shape_error:
            return f"{self.name:<12} | WRONG SHAPE: {self.shape_error}"
        line = (
            f"{self.name:<12} | exact: {str(self.exact):<5} | approximate: "
            f"{str(self.approximate):<5} | largest difference: {self.largest_difference:.3g}"
        )
        if self.differing:
            shown = ", ".join(str(i) for i in self.differing[:10])
            more = f" and {len(self.differing) - 10} more" if len(self.differing) > 10 else ""
            line += f" | differs at {shown}{more}"
        return line

    __repr__ = __str__


def _shape_advice(manual: tuple, engine: tuple) -> str:
    message = f"yours is {manual}, the gradient of a {engine} tensor is {engine}"
    try:
        broadcast = np.broadcast_shapes(manual, engine)
    except ValueError:
        return message
    if broadcast == manual and manual != engine:
        lead = len(manual) - len(engine)
        dims = list(range(lead)) + [
            lead + i for i, n in enumerate(engine) if n == 1 and manual[lead + i] != 1
        ]
        return (
            f"{message}: the tensor was broadcast over dim {', '.join(map(str, dims))}, so "
            f"its gradient is summed over it (.sum({dims[0] if len(dims) == 1 else tuple(dims)}"
            f"{', keepdim=True' if lead == 0 else ''}))"
        )
    return message + ": a gradient always has the shape of its tensor"


def check_grad(
    name: str, manual: Any, tensor: Tensor, rtol: float = 1e-5, atol: float = 1e-8
) -> GradComparison:
    """Compare `manual`, your gradient of `tensor`, with `tensor.grad` from backward.

    >>> b1 = pg.zeros(3, requires_grad=True)
    >>> (b1 * 2).sum().backward()
    >>> print(pg.check_grad("db1", [2.0, 2.0, 2.0], b1))
    db1          | exact: True  | approximate: True  | largest difference: 0
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"check_grad: {name}: expected the tensor itself, not {type(tensor)}")
    if tensor.grad is None:
        raise ValueError(
            f"check_grad: {name}: the tensor has no .grad; call backward() first (and "
            "retain_grad() on a non-leaf tensor before it)"
        )
    engine = tensor.grad._data
    mine = np.asarray(manual._data if isinstance(manual, Tensor) else manual)
    if mine.shape != engine.shape:
        return GradComparison(
            name, False, False, float("inf"), [], _shape_advice(mine.shape, engine.shape)
        )
    exact = bool(np.array_equal(mine, engine))
    close = np.isclose(mine, engine, rtol=rtol, atol=atol)
    difference = np.abs(mine.astype(np.float64) - engine.astype(np.float64))
    largest = float(np.max(difference)) if difference.size else 0.0
    differing = [tuple(int(i) for i in index) for index in np.argwhere(~close)]
    return GradComparison(name, exact, bool(close.all()), largest, differing)


def check_grads(items: Iterable[tuple[str, Any, Tensor]] | dict, **tolerances: Any) -> str:
    """A summary table for many hand-derived gradients: (name, manual, tensor) each."""
    if isinstance(items, dict):
        items = [(name, manual, tensor) for name, (manual, tensor) in items.items()]
    results = [check_grad(name, manual, tensor, **tolerances) for name, manual, tensor in items]
    passed = sum(r.ok for r in results)
    lines = [str(r) for r in results]
    lines.append(f"{passed} of {len(results)} gradients agree with the engine")
    return "\n".join(lines)

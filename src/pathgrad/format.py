"""`repr(tensor)` in PyTorch's style: `tensor([[1., 2.], [3., 4.]], requires_grad=True)`."""

from __future__ import annotations

import numpy as np

_DEFAULT_DTYPES = (np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.bool_))


def _float_formatter(data: np.ndarray):
    """PyTorch's choice: whole numbers as `1.`, else 4 decimals, scientific for a wide range."""
    finite = np.abs(data[np.isfinite(data)]).astype(np.float64)
    nonzero = finite[finite != 0]
    whole = finite.size == 0 or bool(np.all(finite == np.round(finite)))
    if whole:
        scientific = nonzero.size > 0 and nonzero.max() > 1e8
        to_text = (lambda v: f"{v:.4e}") if scientific else (lambda v: f"{v:.0f}.")
    else:
        scientific = nonzero.size > 0 and (
            nonzero.max() / nonzero.min() > 1000 or nonzero.max() > 1e8 or nonzero.min() < 1e-4
        )
        to_text = (lambda v: f"{v:.4e}") if scientific else (lambda v: f"{v:.4f}")

    def text(v: float) -> str:
        if np.isnan(v):
            return "nan"
        if np.isinf(v):
            return "inf" if v > 0 else "-inf"
        return to_text(v)

    width = max((len(text(v)) for v in data.flat), default=0)
    return lambda v: text(v).rjust(width)


def format_tensor(t) -> str:
    data = t.data
    prefix = "tensor("
    if data.dtype.kind == "f" and data.size:
        formatter = {"float_kind": _float_formatter(data)}
    else:
        formatter = None
    if data.size == 0:
        body = "[]"
    else:
        body = np.array2string(
            data, separator=", ", prefix=prefix, formatter=formatter, threshold=1000, edgeitems=3
        )
    extras = []
    if data.size == 0 and data.shape != (0,):
        extras.append(f"size={data.shape}")
    if data.dtype not in _DEFAULT_DTYPES:
        extras.append(f"dtype=pathgrad.{data.dtype}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{_backward_name(t.grad_fn.name)}>")
    elif t._requires_grad:
        extras.append("requires_grad=True")
    return prefix + body + "".join(", " + e for e in extras) + ")"


def _backward_name(op_name: str) -> str:
    return "".join(part.capitalize() for part in op_name.split("_")) + "Backward"

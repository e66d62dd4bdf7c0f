"""`repr(tensor)` as PyTorch writes it: `tensor([[1., 2.], [3., 4.]], requires_grad=True)`.

The rules are PyTorch's own (torch/_tensor_str.py with its default print options), so a tensor
prints as the same tensor would in PyTorch: which numbers choose the style (whole numbers as
`1.`, 4 decimals, or scientific), the column width, elements per line, and the summary of
tensors of more than 1,000 elements.
"""

from __future__ import annotations

import math

import numpy as np

LINEWIDTH = 80
PRECISION = 4
THRESHOLD = 1000  # more elements than this are summarised
EDGEITEMS = 3  # kept at each end of a summarised dim

_DEFAULT_DTYPES = (np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.bool_))


class _Formatter:
    """One style and width for every element, chosen from the nonzero finite values (the
    summarised ones for a large tensor), as PyTorch chooses."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not self.floating:
            self.max_width = max([1] + [len(str(v)) for v in flat.tolist()])
            return
        shown = flat[np.isfinite(flat) & (flat != 0)]
        if shown.size == 0:
            return
        magnitudes = np.abs(shown.astype(np.float64))
        smallest, largest = magnitudes.min(), magnitudes.max()
        self.int_mode = bool(np.all(shown == np.ceil(shown)))
        self.sci_mode = bool(largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4)
        numbers = shown.tolist()
        if self.sci_mode:
            widths = [len(f"{v:.{PRECISION}e}") for v in numbers]
        elif self.int_mode:
            widths = [len(f"{v:.0f}") + 1 for v in numbers]  # the point that says floating
        else:
            widths = [len(f"{v:.{PRECISION}f}") for v in numbers]
        self.max_width = max([1] + widths)

    def format(self, value) -> str:
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{PRECISION}e}"
        elif self.int_mode:
            text = f"{value:.0f}"
            if math.isfinite(value):
                text += "."
        else:
            text = f"{value:.{PRECISION}f}"
        return (self.max_width - len(text)) * " " + text


def _summarized(data: np.ndarray) -> np.ndarray:
    """The elements a summarised print shows, which alone choose its style."""
    if data.ndim == 0:
        return data
    if data.ndim == 1:
        if data.shape[0] > 2 * EDGEITEMS:
            return np.concatenate((data[:EDGEITEMS], data[-EDGEITEMS:]))
        return data
    rows = range(data.shape[0])
    if data.shape[0] > 2 * EDGEITEMS:
        rows = [*range(EDGEITEMS), *range(data.shape[0] - EDGEITEMS, data.shape[0])]
    return np.stack([_summarized(data[i]) for i in rows])


def _vector(data: np.ndarray, indent: int, summarize: bool, formatter: _Formatter) -> str:
    element_length = formatter.max_width + 2  # with ", "
    per_line = max(1, math.floor((LINEWIDTH - indent) / element_length))
    if summarize and data.shape[0] > 2 * EDGEITEMS:
        texts = (
            [formatter.format(v) for v in data[:EDGEITEMS].tolist()]
            + [" ..."]
            + [formatter.format(v) for v in data[-EDGEITEMS:].tolist()]
        )
    else:
        texts = [formatter.format(v) for v in data.tolist()]
    lines = [", ".join(texts[i : i + per_line]) for i in range(0, len(texts), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(data: np.ndarray, indent: int, summarize: bool, formatter: _Formatter) -> str:
    if data.ndim == 0:
        return formatter.format(data.item())
    if data.ndim == 1:
        return _vector(data, indent, summarize, formatter)
    count = data.shape[0]
    if summarize and count > 2 * EDGEITEMS:
        slices = (
            [_nested(data[i], indent + 1, summarize, formatter) for i in range(EDGEITEMS)]
            + ["..."]
            + [
                _nested(data[i], indent + 1, summarize, formatter)
                for i in range(count - EDGEITEMS, count)
            ]
        )
    else:
        slices = [_nested(data[i], indent + 1, summarize, formatter) for i in range(count)]
    return "[" + ("," + "\n" * (data.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _with_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    """`, dtype=...`, `, grad_fn=<...>` after the values, on a new line where one would run
    past the line width."""
    parts = [text]
    last_line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line + len(suffix) + 2 > LINEWIDTH:
            parts.append(",\n" + " " * indent + suffix)
            last_line = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line += len(suffix) + 2
    return "".join(parts) + ")"


def format_tensor(t) -> str:
    data = t._data
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    if data.size == 0:
        if data.ndim != 1:
            suffixes.append(f"size={data.shape}")
        if data.dtype != _DEFAULT_DTYPES[0]:  # an empty tensor names any dtype but float32
            suffixes.append(f"dtype=pathgrad.{data.dtype}")
        body = "[]"
    else:
        if data.dtype not in _DEFAULT_DTYPES:
            suffixes.append(f"dtype=pathgrad.{data.dtype}")
        summarize = data.size > THRESHOLD
        formatter = _Formatter(_summarized(data) if summarize else data)
        body = _nested(data, indent, summarize, formatter)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{_backward_name(t.grad_fn.name)}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + body, suffixes, indent)


def _backward_name(op_name: str) -> str:
    return "".join(part.capitalize() for part in op_name.split("_")) + "Backward"

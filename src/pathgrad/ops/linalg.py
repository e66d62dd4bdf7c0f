"""Matrix products. One primitive, for operands of two or more dims whose batch dims already
agree; `matmul` handles NumPy's other cases (1-D operands, broadcast batch dims) around it."""

from __future__ import annotations

import numpy as np

from pathgrad.errors import ShapeError, op_context
from pathgrad.ops import registry
from pathgrad.ops.broadcast import broadcast_shapes, expand_as_needed
from pathgrad.ops.registry import as_tensor, needs_grad, op
from pathgrad.ops.shape import reshape, squeeze, transpose, unsqueeze


@op("matmul", inputs=2)
def batched_matmul(a, b, transpose_a=False, transpose_b=False):
    """a @ b for a (..., n, k) and b (..., k, m), either taken transposed in its last two dims.
    Every operand that needs a gradient already has the full batch shape, so no rule reduces;
    the transposed forms let the rule be products alone, with no transpose ops."""

    # each operand is kept only if the other's gradient needs it, as mul keeps them; so the
    # rule reads "a needs a gradient" as "b was kept"
    kept_a = a if b._requires_grad else None  # matmul's operands are tensors
    kept_b = b if a._requires_grad else None

    def vjp(grad):
        # for C = A'B' (A' = A or A^T, B' likewise): dL/dA' = dL/dC B'^T and dL/dB' = A'^T dL/dC,
        # the seed derivation; an operand taken transposed gets the transposed gradient
        grad_a = grad_b = None
        if kept_b is not None:
            grad_a = (
                batched_matmul(kept_b, grad, transpose_b, True)  # (G B'^T)^T = B' G^T
                if transpose_a
                else batched_matmul(grad, kept_b, False, not transpose_b)
            )
        if kept_a is not None:
            grad_b = (
                batched_matmul(grad, kept_a, True, transpose_a)  # (A'^T G)^T = G^T A'
                if transpose_b
                else batched_matmul(kept_a, grad, not transpose_a, False)
            )
        return grad_a, grad_b

    a_data = a.data.swapaxes(-2, -1) if transpose_a else a.data
    b_data = b.data.swapaxes(-2, -1) if transpose_b else b.data
    return np.matmul(a_data, b_data), vjp


_BATCHED_MATMUL = batched_matmul.definition
_NO_KWARGS: dict = {}


def matmul(a, b):
    """Matrix product with NumPy's rules: 1-D with 1-D (dot), 1-D with N-D, N-D with 1-D, and
    N-D batched with broadcast batch dims."""
    a, b = as_tensor(a), as_tensor(b)
    a_data, b_data = a.data, b.data
    a_shape, b_shape = a_data.shape, b_data.shape
    if len(a_shape) == 2 and len(b_shape) == 2 and a_data.dtype == b_data.dtype:
        if a_shape[1] != b_shape[0]:
            _inner_mismatch(a_shape, b_shape)
        # the engine called as batched_matmul's wrapper would call it, one call less on the
        # commonest product; the user's line is then two frames up, where the engine looks first
        return registry._apply(_BATCHED_MATMUL, (a, b), _NO_KWARGS)
    if not a_shape or not b_shape:
        raise ShapeError(
            f"{op_context('matmul')}: {a_shape} @ {b_shape}: both operands need at least one "
            "dimension (use * for a scalar)"
        )
    if a_shape[-1] != b_shape[-2 if len(b_shape) > 1 else 0]:
        _inner_mismatch(a_shape, b_shape)
    left = unsqueeze(a, 0) if len(a_shape) == 1 else a
    right = unsqueeze(b, 1) if len(b_shape) == 1 else b
    batch = broadcast_shapes("matmul", left.data.shape[:-2], right.data.shape[:-2])
    dtype = np.result_type(a.data.dtype, b.data.dtype)
    left, right = (
        expand_as_needed(t, batch + t.data.shape[-2:], dtype) if needs_grad(t) else t
        for t in (left, right)
    )
    out = batched_matmul(left, right)
    if len(a_shape) == 1 and len(b_shape) == 1:
        return reshape(out, ())
    if len(a_shape) == 1:
        return squeeze(out, -2)
    if len(b_shape) == 1:
        return squeeze(out, -1)
    return out


def _inner_mismatch(a_shape, b_shape):
    inner_a = a_shape[-1]
    inner_b = b_shape[-2] if len(b_shape) > 1 else b_shape[0]
    raise ShapeError(
        f"{op_context('matmul')}: {a_shape} @ {b_shape}: inner dimensions {inner_a} and "
        f"{inner_b} differ"
    )


def _matmul_of_rank(op_name: str, a, b, rank: int, what: str):
    """matmul for PyTorch's fixed-rank names (dot, mm, bmm), which refuse other ranks."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim != rank or b.ndim != rank or (rank == 3 and a.shape[0] != b.shape[0]):
        raise ShapeError(f"{op_context(op_name)}: expects {what}, got {a.shape} and {b.shape}")
    return matmul(a, b)


def dot(a, b):
    """Inner product of two 1-D tensors."""
    return _matmul_of_rank("dot", a, b, 1, "two 1-D tensors")


def outer(a, b):
    """a[i] * b[j] for 1-D a and b."""
    a, b = as_tensor(a), as_tensor(b)
    return unsqueeze(a, 1) * unsqueeze(b, 0)


def mm(a, b):
    """Matrix product of two 2-D tensors (PyTorch's mm: no broadcasting, no 1-D operands)."""
    return _matmul_of_rank("mm", a, b, 2, "two 2-D tensors")


def bmm(a, b):
    """Batched product of two 3-D tensors with the same batch size (PyTorch's bmm)."""
    return _matmul_of_rank("bmm", a, b, 3, "two 3-D tensors with one batch size")


def t(x):
    """The transpose of a tensor of at most 2 dims (PyTorch's t)."""
    x = as_tensor(x)
    if x.ndim > 2:
        raise ShapeError(f"{op_context('t')}: expects at most 2 dims, got shape {x.shape}; use mT")
    return transpose(x, 0, 1) if x.ndim == 2 else x

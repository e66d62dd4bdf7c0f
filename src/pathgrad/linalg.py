"""`pg.linalg`, PyTorch's torch.linalg under its names: matrix functions with gradients
(inv, det, slogdet, solve, cholesky, eigh) and norms, composed of pathgrad's ops.

>>> A = pg.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
>>> pg.linalg.det(A)
tensor(5., grad_fn=<DetBackward>)
"""

from __future__ import annotations

import builtins
import math

from pathgrad.errors import LinAlgError, ShapeError, op_context
from pathgrad.ops import reduce
from pathgrad.ops.elementwise import abs
from pathgrad.ops.linalg import cross as _cross
from pathgrad.ops.linalg import matmul, matrix_power
from pathgrad.ops.matrix import (
    cholesky,
    det,
    eigh,
    eigvalsh,
    inv,
    lstsq,
    matrix_exp,
    matrix_rank,
    pinv,
    qr,
    slogdet,
    solve,
    solve_triangular,
    svd,
    svdvals,
)
from pathgrad.ops.registry import as_tensor, normalize_dims
from pathgrad.ops.shape import movedim, squeeze, unsqueeze


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """(sum |x|^ord)^(1/ord) over `dim` (all elements by default); ord a positive number, inf
    or -inf."""
    x = as_tensor(x)
    if dtype is not None:
        x = x.to(dtype)
    return reduce.norm(x, p=ord, dim=dim, keepdim=keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False):
    """Norms of matrices over the two dims `dim`: "fro"; the induced 1, -1, inf, -inf (largest
    or smallest absolute column or row sum); 2, -2 (largest or smallest singular value) and
    "nuc" (their sum)."""
    A = as_tensor(A)
    if A.ndim < 2:
        raise ShapeError(f"{op_context('matrix_norm')}: needs at least 2 dims, got {A.shape}")
    if len(dim) != 2:
        raise ShapeError(f"{op_context('matrix_norm')}: dim must name two dims, got {dim}")
    rows, columns = (normalize_dims(d, A.ndim, "matrix_norm")[0] for d in dim)
    if rows == columns:
        raise ShapeError(f"{op_context('matrix_norm')}: dim must name two dims, got {dim}")
    if ord == "fro":
        return reduce.norm(A, p=2, dim=(rows, columns), keepdim=keepdim)
    if ord in (1, -1, math.inf, -math.inf):
        summed, across = (rows, columns) if ord in (1, -1) else (columns, rows)
        sums = reduce.sum(abs(A), summed, keepdim=True)
        pick = reduce.amax if ord > 0 else reduce.amin
        out = pick(sums, across, keepdim=True)
        return out if keepdim else squeeze(out, (rows, columns))
    if ord in (2, -2, "nuc"):
        values = svdvals(movedim(A, (rows, columns), (-2, -1)))
        out = {2: reduce.amax, -2: reduce.amin, "nuc": reduce.sum}[ord](values, -1)
        if keepdim:
            out = unsqueeze(
                unsqueeze(out, builtins.min(rows, columns)), builtins.max(rows, columns)
            )
        return out
    raise ValueError(
        f"{op_context('matrix_norm')}: ord must be 'fro', 'nuc', 1, -1, 2, -2, inf or -inf, "
        f"not {ord!r}"
    )


def norm(x, ord=None, dim=None, keepdim=False):
    """vector_norm or matrix_norm, as PyTorch's linalg.norm chooses: with ord None, the 2-norm
    of all elements (Frobenius for a matrix); a dim pair or a 2-D input with ord means a
    matrix norm."""
    x = as_tensor(x)
    if ord is None:
        return vector_norm(x, 2, dim, keepdim)
    if (dim is None and x.ndim == 2) or (isinstance(dim, (tuple, list)) and len(dim) == 2):
        return matrix_norm(x, ord, (-2, -1) if dim is None else tuple(dim), keepdim)
    return vector_norm(x, ord, dim, keepdim)


def multi_dot(tensors):
    """The product of a list of matrices (the first and last may be vectors), left to right."""
    tensors = [as_tensor(t) for t in tensors]
    if len(tensors) < 2:
        raise ValueError(f"{op_context('multi_dot')}: expects at least 2 tensors")
    out = tensors[0]
    for t in tensors[1:]:
        out = matmul(out, t)
    return out


def vecdot(x, y, *, dim=-1):
    """Dot products along `dim`, broadcast."""
    return reduce.sum(as_tensor(x) * y, dim)


def cross(a, b, *, dim=-1):
    """The cross product along `dim` (the last by default, as torch.linalg.cross)."""
    return _cross(a, b, dim)


__all__ = [
    "LinAlgError",
    "cholesky",
    "cross",
    "det",
    "eigh",
    "eigvalsh",
    "inv",
    "lstsq",
    "matrix_exp",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "multi_dot",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "solve_triangular",
    "svd",
    "svdvals",
    "vecdot",
    "vector_norm",
]

"""Gradient clipping, in place on .grad, as torch.nn.utils.clip_grad_*."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pathgrad.tensor import Tensor, from_array


def _with_grads(parameters: Any) -> list[Tensor]:
    if type(parameters) is Tensor:
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(
    parameters: Any,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: Any = None,
) -> Tensor:
    """Scale all gradients together so their joint norm is at most max_norm; returns the norm
    before clipping (a 0-d tensor), as PyTorch's (the scale is max_norm / (norm + 1e-6))."""
    grads = [p.grad._data for p in _with_grads(parameters)]
    if not grads:
        return from_array(np.array(0.0, dtype=np.float32))
    norm_type = float(norm_type)
    if math.isinf(norm_type):
        norms = [np.abs(g).max() if g.size else 0.0 for g in grads]
        total = np.max(norms)
    else:
        norms = [np.linalg.norm(g.ravel(), norm_type) for g in grads]
        total = np.linalg.norm(np.array(norms, dtype=np.float64), norm_type)
    total = np.asarray(total, dtype=grads[0].dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
            f"non-finite ({total}), so they cannot be clipped; pass error_if_nonfinite=False to "
            "clip anyway"
        )
    # computed in NumPy and applied unconditionally (a factor of 1 changes nothing), so that a
    # compiled step (pg.compile) replays it rather than freeze the norm read into Python
    scale = np.minimum(float(max_norm) / (total.astype(np.float64) + 1e-6), 1.0)
    for g in grads:
        g *= scale.astype(g.dtype)
    return from_array(total)


def clip_grad_value_(parameters: Any, clip_value: float, foreach: Any = None) -> None:
    """Clamp every gradient element to [-clip_value, clip_value], in place."""
    for p in _with_grads(parameters):
        np.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)

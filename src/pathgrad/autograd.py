"""`Tensor.backward` and `pathgrad.autograd.grad`: thin shells over the functional core,
`autodiff.backprop`, which returns gradients and stores none."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pathgrad.anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from pathgrad.autodiff.backprop import backprop
from pathgrad.backward import roots_and_seeds, run_backward, run_leaf_hooks, wrap_saved_output
from pathgrad.function import Function, FunctionCtx, once_differentiable
from pathgrad.modes import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from pathgrad.tensor import Tensor


def backward(
    tensors: Tensor | Sequence[Tensor],
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Sequence[Tensor] | None = None,
) -> None:
    """Accumulate the gradients of several outputs at once into the leaves' `.grad`, each
    weighted by its grad_tensor (PyTorch's torch.autograd.backward): one sweep from all of them,
    so a leaf reached from several outputs gets their sum."""
    outputs = [tensors] if type(tensors) is Tensor else list(tensors)
    if grad_tensors is None or type(grad_tensors) is Tensor:
        weights = [grad_tensors] * len(outputs) if grad_tensors is None else [grad_tensors]
    else:
        weights = list(grad_tensors)
    if len(weights) != len(outputs):
        raise ValueError(
            f"backward: {len(weights)} grad_tensors for {len(outputs)} tensors; give one each"
        )
    run_backward(outputs, weights, retain_graph, create_graph, inputs)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """The gradients of `outputs` with respect to `inputs`, returned, not stored in `.grad`.

    >>> x = pg.tensor([1.0, 2.0], requires_grad=True)
    >>> pg.autograd.grad((x * x).sum(), x)
    (tensor([2., 4.]),)
    """
    outputs = [outputs] if type(outputs) is Tensor else list(outputs)
    inputs_list = [inputs] if type(inputs) is Tensor else list(inputs)
    if grad_outputs is None or type(grad_outputs) is Tensor:
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(
            f"grad: {len(grad_outputs)} grad_outputs for {len(outputs)} outputs; give one each"
        )
    for position, t in enumerate(inputs_list):
        if type(t) is not Tensor or not t.requires_grad:
            raise RuntimeError(f"grad: input {position} does not require grad")
    roots, seeds = roots_and_seeds(outputs, grad_outputs, "grad")
    if retain_graph is None:
        retain_graph = create_graph
    capture = frozenset(t.grad_fn for t in inputs_list if t.grad_fn is not None)
    grads, _ = backprop(
        roots,
        seeds,
        wrap_saved_output,
        retain_graph=retain_graph,
        create_graph=create_graph,
        capture=capture,
        capture_before_hooks=True,
    )
    results = []
    for position, t in enumerate(inputs_list):
        g = grads.get(t.grad_fn if t.grad_fn is not None else t)
        if g is not None and t.grad_fn is None:
            g = run_leaf_hooks(t, g)  # a non-leaf's hooks ran in the sweep
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {position} (shape {t.shape}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
        results.append(g)
    return tuple(results)


__all__ = [
    "AnomalyError",
    "backward",
    "Function",
    "FunctionCtx",
    "once_differentiable",
    "detect_anomaly",
    "is_anomaly_enabled",
    "set_detect_anomaly",
    "backprop",
    "enable_grad",
    "grad",
    "is_grad_enabled",
    "no_grad",
    "run_backward",
    "set_grad_enabled",
]

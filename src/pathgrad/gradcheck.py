"""`gradcheck`: compare the engine's gradients with central differences, in float64.

With a random weighting `v` of the outputs, the engine's gradient of sum(v * f(x)) is compared
element by element with (L(x + eps) - L(x - eps)) / 2 eps. On a mismatch the check names the
input, the element and both values, then re-runs `fn` op by op to name the rule at fault.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from pathgrad import autograd
from pathgrad.autodiff.grad_mode import use_variant
from pathgrad.autodiff.node import Node
from pathgrad.autodiff.toposort import reverse_topological_order
from pathgrad.dispatch import apply
from pathgrad.modes import enable_grad, no_grad
from pathgrad.tensor import Tensor, from_array


class GradcheckError(AssertionError):
    """The engine's gradient and the finite-difference gradient disagree."""


def _as_tuple(value: Any) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _float64_inputs(inputs: Sequence[Any]) -> list[Any]:
    converted = []
    for t in inputs:
        if type(t) is Tensor and t.dtype.kind == "f":
            converted.append(
                from_array(np.array(t._data, dtype=np.float64), requires_grad=t.requires_grad)
            )
        else:
            converted.append(t)
    return converted


def _differentiable_outputs(result: Any) -> list[Tensor]:
    return [o for o in _as_tuple(result) if type(o) is Tensor and o.dtype.kind == "f"]


def _weighted_total(fn: Callable, inputs: list, weights: list[np.ndarray]) -> float:
    with no_grad():
        outputs = _differentiable_outputs(fn(*inputs))
    return float(sum(np.sum(w * o._data) for w, o in zip(weights, outputs)))


def find_mismatch(
    fn: Callable, inputs: list, eps: float, atol: float, rtol: float
) -> tuple[int, tuple, float, float] | None:
    """The first (input position, element, engine value, numerical value) that disagree."""
    rng = np.random.default_rng(0)
    with enable_grad():
        outputs = _differentiable_outputs(fn(*inputs))
    checked = [i for i, t in enumerate(inputs) if type(t) is Tensor and t.requires_grad]
    if not outputs or not checked:
        return None
    weights = [rng.standard_normal(o.shape) for o in outputs]
    wanted = [o for o in outputs if o.requires_grad]
    used = [w for w, o in zip(weights, outputs) if o.requires_grad]
    engine = (
        autograd.grad(
            wanted,
            [inputs[i] for i in checked],
            grad_outputs=[from_array(w.astype(o.dtype)) for w, o in zip(used, wanted)],
            allow_unused=True,
        )
        if wanted
        else [None] * len(checked)
    )
    for position, analytical in zip(checked, engine):
        data = inputs[position]._data
        analytical = np.zeros(data.shape) if analytical is None else analytical._data
        for element in np.ndindex(data.shape):
            original = data[element]
            data[element] = original + eps
            upper = _weighted_total(fn, inputs, weights)
            data[element] = original - eps
            lower = _weighted_total(fn, inputs, weights)
            data[element] = original
            numerical = (upper - lower) / (2 * eps)
            value = float(analytical[element])
            if not abs(value - numerical) <= atol + rtol * abs(numerical):
                return position, element, value, numerical
    return None


def _locate_faulty_rule(fn: Callable, inputs: list, eps: float, atol: float, rtol: float):
    """Re-run `fn` keeping each op's inputs, and check each op alone, inputs side first."""
    previous = use_variant(keep_inputs=True)
    try:
        with enable_grad():
            outputs = _differentiable_outputs(fn(*inputs))
    finally:
        use_variant(**previous)
    roots = [o.grad_fn for o in outputs if o.grad_fn is not None]
    order, _ = reverse_topological_order(roots)
    for node in reversed(order):
        mismatch = _check_node(node, eps, atol, rtol)
        if mismatch is not None:
            return node, mismatch
    return None


def _check_node(node: Node, eps: float, atol: float, rtol: float):
    args, kwargs = node.inputs
    definition = node.definition
    arity = definition.inputs
    if arity == "sequence":
        tensors = _float64_inputs(args[0])

        def single(*ts):
            return apply(definition, (ts,) + tuple(args[1:]), kwargs)

    else:
        tensors = _float64_inputs(args[:arity])

        def single(*ts):
            return apply(definition, ts + tuple(args[arity:]), kwargs)

    return find_mismatch(single, tensors, eps, atol, rtol)


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Check `fn`'s gradients with respect to every input that requires grad.

    Runs in float64 whatever the inputs' dtype (float32 differences give false failures).
    Returns True, or raises GradcheckError naming the input, the element, both values and the
    op whose rule is at fault (returns False instead when `raise_exception=False`).

    >>> x = pg.randn(3, 4, dtype=pg.float64, requires_grad=True)
    >>> pg.gradcheck(lambda x: (x.tanh() * x).sum(1), (x,))
    True
    """
    inputs = _float64_inputs(_as_tuple(inputs))
    mismatch = find_mismatch(fn, inputs, eps, atol, rtol)
    if mismatch is None:
        return True
    if not raise_exception:
        return False
    position, element, value, numerical = mismatch
    message = (
        f"gradcheck: input {position}, element {element}: the engine gives {value:.10g}, "
        f"central differences give {numerical:.10g}"
    )
    located = _locate_faulty_rule(fn, inputs, eps, atol, rtol)
    if located is not None:
        node, (op_position, op_element, op_value, op_numerical) = located
        message += (
            f". The rule of {node.name!r} is at fault: for its input {op_position}, element "
            f"{op_element}, it gives {op_value:.10g} where differences give {op_numerical:.10g}"
        )
    raise GradcheckError(message)


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Check second derivatives: the gradient of sum(v * fn(x)), built with create_graph=True,
    is itself gradchecked against central differences (v random, fixed)."""
    inputs = _float64_inputs(_as_tuple(inputs))
    checked = [i for i, t in enumerate(inputs) if type(t) is Tensor and t.requires_grad]
    rng = np.random.default_rng(1)
    weights: list[np.ndarray] = []

    def first_gradients(*xs):
        with enable_grad():  # the finite differences call this under no_grad
            return _first_gradients(xs)

    def _first_gradients(xs):
        outputs = _differentiable_outputs(fn(*xs))
        if not weights:
            weights.extend(rng.standard_normal(o.shape) for o in outputs)
        wanted = [(o, w) for o, w in zip(outputs, weights) if o.requires_grad]
        leaves = [xs[i] for i in checked]
        if not wanted:
            return tuple(from_array(np.zeros_like(x._data)) for x in leaves)
        grads = autograd.grad(
            [o for o, _ in wanted],
            leaves,
            grad_outputs=[from_array(w) for _, w in wanted],
            create_graph=True,
            allow_unused=True,
        )
        return tuple(
            from_array(np.zeros_like(x._data)) if g is None else g for g, x in zip(grads, leaves)
        )

    return gradcheck(first_gradients, inputs, eps, atol, rtol, raise_exception)

"""The reverse sweep: multiply along each path, sum across paths. `Tensor.backward` and
`pathgrad.autograd.grad` are thin shells over `backprop`, its functional core."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pathgrad import errors, versions
from pathgrad.autodiff import grad_mode
from pathgrad.autodiff.node import Node
from pathgrad.autodiff.toposort import reverse_topological_order


def backprop(
    roots: list,
    seeds: list,
    wrap: Callable[[Any, Node], Any],
    retain_graph: bool = False,
    create_graph: bool = False,
    capture: frozenset = frozenset(),
    capture_before_hooks: bool = False,
) -> tuple[dict, dict]:
    """Gradients of sum(seed * root) over the roots, keyed by leaf or `capture` node, and the
    leaves reached. Nodes run in the walk's order, so each gradient is summed across paths
    before its rule uses it. `wrap(array, node)` makes the tensor a rule sees as `out`; a
    captured gradient is taken after the node's hooks (backward(inputs=...)) or before them
    (autograd.grad, as PyTorch)."""
    grads = _seeded(roots, seeds)
    order, leaves = reverse_topological_order(roots)
    run_rule = grad_mode.engine.run_rule  # the plain rule call, or anomaly mode's watched one
    captured: dict = {}
    token = grad_mode.recording.set(create_graph)  # rules record only for create_graph
    try:
        for node in order:
            grad = grads.pop(node, None)
            if grad is None:
                continue  # no path from a root carried a gradient here
            if capture or node.hooks is not None:
                grad = _hooked(node, grad, capture, captured, capture_before_hooks)
            for parent, input_grad in zip(node.parents, run_rule(node, grad, wrap, retain_graph)):
                if input_grad is not None and parent is not None:
                    data = input_grad._data  # the engine checks and never fixes:
                    expected = parent if type(parent) is Node else parent._data
                    if data.shape != expected.shape or data.dtype != expected.dtype:
                        raise errors.gradient_mismatch_error(node, parent, data, expected)
                    previous = grads.get(parent)  # sum across paths
                    grads[parent] = input_grad if previous is None else previous + input_grad
    finally:
        grad_mode.recording.reset(token)
    grads.update(captured)
    return grads, leaves


def _seeded(roots: list, seeds: list) -> dict:
    """Each root's seed gradient, summed where a root is given twice."""
    if len(roots) == 1:  # every Tensor.backward(): one dict made at once (the loop: +150 ns)
        return {roots[0]: seeds[0]}
    grads: dict = {}
    for root, seed in zip(roots, seeds):
        grads[root] = grads[root] + seed if root in grads else seed
    return grads


def run_rule(node: Node, grad: Any, wrap: Callable, retain_graph: bool) -> tuple:
    """A node's rule on its gradient: one gradient per input, in order. Refuses a graph that
    a backward freed or whose saved tensors changed in place since."""
    vjp = node.vjp
    if vjp is None:
        raise errors.freed_graph_error(node)
    if node.epoch != versions.epoch:  # some in-place change came after the node was made
        check_saved(node)
    out = node.saved_out
    args = (grad,) if out is None else (grad, wrap(out, node))
    if type(vjp) is not tuple:
        input_grads = vjp(*args)
    elif len(vjp) == 2:  # binary ops' formulas, on every step: written out
        first, second = vjp
        input_grads = (first and first(*args), second and second(*args))
    else:  # one formula per input, kept only for inputs that need a gradient (dispatch.masked)
        input_grads = tuple([f and f(*args) for f in vjp])
    if not retain_graph:
        node.vjp = node.saved_out = None  # dropped what it saved: a second backward says so
        if node.inputs is not None:
            node.inputs = None
    if type(input_grads) is not tuple:  # a one-input rule returns its gradient alone
        return (input_grads,)
    if len(input_grads) != len(node.parents):
        raise errors.gradient_count_error(node, len(input_grads))
    return input_grads


def check_saved(node: Node) -> None:
    """Raise if a tensor the node saved (or its output) changed in place since it was made."""
    if node.__dict__.get("output_changed") is not None:  # the output it saves, by inplace.py
        raise errors.saved_tensor_changed_error(node, None)
    for tensor in node.saved:
        base = tensor._base if tensor._base is not None else tensor
        changes = base.__dict__.get("_changes")
        if changes and changes[-1].epoch > node.epoch:  # changed since the node was made
            raise errors.saved_tensor_changed_error(node, tensor)


def _hooked(node: Node, grad: Any, capture: frozenset, captured: dict, before: bool) -> Any:
    """A non-leaf's gradient through its hooks (in the order registered; a returned tensor
    replaces it; `retain_grad`'s last), kept first where `capture` asks, before or after them."""
    if before and node in capture:
        captured[node] = grad
    hooks = node.hooks
    if hooks is not None:
        for key, hook in list(hooks.items()):
            if key != RETAIN_GRAD and (replaced := hook(grad)) is not None:
                grad = errors.checked_hook_result(
                    hook, grad, replaced, f" on the output of {errors.made_at(node)}"
                )
        if RETAIN_GRAD in hooks:
            hooks[RETAIN_GRAD](grad)
    if not before and node in capture:
        captured[node] = grad
    return grad


RETAIN_GRAD = "retain_grad"

grad_mode.engine.run_rule = run_rule

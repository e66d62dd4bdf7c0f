"""The reverse sweep: multiply along each path, sum across paths.

`backprop` is the functional core: it takes output nodes (or leaves) and their seed gradients
and returns the gradient of every leaf it reached, and of any node asked for in `capture`.
`Tensor.backward` and `pathgrad.autograd.grad` are thin shells over it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pathgrad.autodiff import grad_mode, versions
from pathgrad.autodiff.node import Node
from pathgrad.errors import GradientShapeError

FREED_GRAPH_MESSAGE = (
    "backward through {name}: its saved values were freed by an earlier backward. Pass "
    "retain_graph=True to the first backward() if you need to go through the graph twice, or "
    "recompute the forward pass."
)


# anomaly mode's watch over each rule (`anomaly.py`): called as
# rule_check(node, grad, vjp, saved_out, wrap) in the rule's place; None, so free, when off
rule_check: Callable[..., Any] | None = None


def backprop(
    roots: list,
    seeds: list,
    wrap: Callable[[Any, Node], Any],
    retain_graph: bool = False,
    create_graph: bool = False,
    capture: frozenset = frozenset(),
    capture_before_hooks: bool = False,
) -> tuple[dict, list]:
    """Gradients of sum(seed * root) for every leaf reached and for `capture` nodes, keyed by
    the leaf or node itself.

    A node runs once every consumer has sent its gradient, so each gradient is complete (summed
    across paths) before it is used. `wrap(array, node)` makes the tensor a rule sees as `out`
    for ops that save their output. A captured gradient is the one after the node's hooks
    (what backward(inputs=...) stores), or before them (what autograd.grad returns, as
    PyTorch). Returns (gradients, leaves reached in order).
    """
    # where the sweep starts: the roots and their seeds (summed where a root repeats); those no
    # other root depends on run first. backward()'s one root is written out, without the loops
    # and comprehensions (calls too): on a small step each shows (benchmarks/bench_linear.py)
    if len(roots) == 1:
        root = roots[0]
        grads: dict = {root: seeds[0]}
        from_node = type(root) is Node
        stack = [root] if from_node else []
        ready = [root] if from_node else []
        leaves: list = [] if from_node else [root]
    else:
        stack = [root for root in roots if type(root) is Node]
        grads = {}
        leaves = []
        for root, seed in zip(roots, seeds):
            if type(root) is not Node and root not in grads:
                leaves.append(root)
            grads[root] = seed if root not in grads else grads[root] + seed
    # how many recorded edges lead into each node: a node runs once all its consumers have sent
    # their gradients (Kahn's order), so each is complete, and the sweep needs no stored order
    counts: dict = dict.fromkeys(stack, 0)
    while stack:
        for parent in stack.pop().parents:
            if type(parent) is Node:
                if parent in counts:
                    counts[parent] += 1
                else:
                    counts[parent] = 1
                    stack.append(parent)
    if len(roots) != 1:
        ready = list(dict.fromkeys(r for r in roots if type(r) is Node and counts[r] == 0))
    captured: dict = {}
    token = grad_mode.recording.set(create_graph)
    try:
        while ready:
            node = ready.pop()
            parents = node.parents
            grad = grads.pop(node, None)
            if grad is None:
                input_grads: Any = (None,) * len(parents)
            else:
                if capture and node in capture:
                    grad = _capture(node, grad, captured, capture_before_hooks)
                elif node.hooks is not None:
                    grad = _run_hooks(node.hooks, grad, node)
                # the node's VJP: one gradient per input, in order
                vjp = node.vjp
                if vjp is None:
                    raise RuntimeError(FREED_GRAPH_MESSAGE.format(name=made_at(node)))
                if node.epoch != versions.epoch:
                    versions.check_saved(node)
                saved = node.saved_out
                if rule_check is not None:  # anomaly mode: the rule runs under its watch
                    input_grads = rule_check(node, grad, vjp, saved, wrap)
                elif saved is None:
                    input_grads = vjp(grad)
                else:
                    input_grads = vjp(grad, wrap(saved, node))
                if not retain_graph:
                    node.release()
                if type(input_grads) is not tuple:  # a one-input rule returns its gradient alone
                    input_grads = (input_grads,)
                elif len(input_grads) != len(parents):
                    raise GradientShapeError(
                        f"the rule of {node.name} returned {len(input_grads)} gradients for "
                        f"{len(parents)} inputs"
                    )
            for parent, input_grad in zip(parents, input_grads):
                if parent is None:
                    continue
                if type(parent) is Node:
                    if input_grad is not None:
                        data = input_grad.data
                        if data.shape != parent.shape or data.dtype != parent.dtype:
                            _mismatch(node, parents, parent, data, parent.shape, parent.dtype)
                        previous = grads.get(parent)
                        grads[parent] = input_grad if previous is None else previous + input_grad
                    remaining = counts[parent] - 1
                    if remaining:
                        counts[parent] = remaining
                    else:
                        ready.append(parent)
                elif input_grad is not None:
                    data = input_grad.data
                    expected = parent.data
                    if data.shape != expected.shape or data.dtype != expected.dtype:
                        _mismatch(node, parents, parent, data, expected.shape, expected.dtype)
                    previous = grads.get(parent)
                    if previous is None:
                        grads[parent] = input_grad
                        leaves.append(parent)
                    else:
                        grads[parent] = previous + input_grad
    finally:
        grad_mode.recording.reset(token)
    if captured:
        grads.update(captured)
    return grads, leaves


def _capture(node: Node, grad: Any, captured: dict, before_hooks: bool) -> Any:
    """Keep a captured node's gradient, before or after its hooks; returns the one to go on."""
    if before_hooks:
        captured[node] = grad
    if node.hooks is not None:
        grad = _run_hooks(node.hooks, grad, node)
    if not before_hooks:
        captured[node] = grad
    return grad


def _mismatch(node: Node, parents: tuple, parent: Any, data: Any, shape: tuple, dtype: Any) -> None:
    """The engine checks and never fixes: a wrong shape or dtype is a bug in the rule."""
    position = next(i for i, p in enumerate(parents) if p is parent)
    raise GradientShapeError(
        f"the rule of {made_at(node)} returned a gradient of shape {data.shape} and dtype "
        f"{data.dtype} for input {position}, which has shape {shape} and dtype {dtype}"
    )


RETAIN_GRAD = "retain_grad"


def made_at(node: Node) -> str:
    """`exp (made at model.py:12)`: the op and the user's line that made it, for a message."""
    site = node.site
    return f"{node.name} (made at {site})" if site else node.name


def _run_hooks(hooks: dict, grad: Any, node: Node) -> Any:
    """A non-leaf tensor's hooks, in the order registered (a returned tensor replaces grad),
    then `retain_grad`'s, which sees the final gradient."""
    for key, hook in list(hooks.items()):
        if key != RETAIN_GRAD:
            replaced = hook(grad)
            if replaced is not None:
                grad = checked_hook_result(
                    hook, grad, replaced, f" on the output of {made_at(node)}"
                )
    if RETAIN_GRAD in hooks:
        hooks[RETAIN_GRAD](grad)
    return grad


def checked_hook_result(hook: Callable, grad: Any, replaced: Any, where: str = "") -> Any:
    """A hook's returned gradient, which may change values only: another type, shape or dtype
    is refused by the hook's name here (PyTorch too), not met later as a rule's fault."""
    if type(replaced) is not type(grad):
        raise TypeError(
            f"hook {_hook_name(hook)} returned a {type(replaced).__name__}; a hook returns a "
            "tensor (the new gradient) or None"
        )
    given, returned = grad.data, replaced.data
    if returned.shape != given.shape or returned.dtype != given.dtype:
        raise RuntimeError(
            f"hook {_hook_name(hook)}{where} returned a gradient of shape {returned.shape} and "
            f"dtype {returned.dtype} for one of shape {given.shape} and dtype {given.dtype}; a "
            "hook may change the values only"
        )
    return replaced


def _hook_name(hook: Callable) -> str:
    return getattr(hook, "__qualname__", None) or repr(hook)

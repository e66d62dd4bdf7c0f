"""`Tensor.backward`: seeds the reverse sweep (`autodiff.backprop`, the functional core) and
stores what it returns in the leaves' `.grad`."""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from pathgrad import dispatch, versions
from pathgrad.autodiff import grad_mode
from pathgrad.autodiff.backprop import backprop
from pathgrad.autodiff.node import Node
from pathgrad.errors import Site, checked_hook_result, user_site
from pathgrad.tensor import Tensor, as_tensor, from_array, plain_tensor


def wrap_saved_output(data: np.ndarray, node: Node) -> Tensor:
    """The output a rule sees as `out`: made at backward time, so the graph holds no cycle."""
    return from_array(data, node)


def root_of(t: Tensor) -> Any:
    """The graph position of an output: its node, or the leaf itself."""
    if t._base is not None:
        dispatch.refresh_if_stale(t)
    if t.grad_fn is not None:
        return t.grad_fn
    if t._requires_grad:
        return t
    compiled = t.__dict__.get("_compiled_from")
    if compiled is not None:
        raise RuntimeError(
            f"backward: this tensor is a result of {compiled}, compiled with pg.compile, whose "
            "replays return tensors without a graph; call backward inside the compiled "
            "function (compile the whole training step: forward, backward, optimizer.step())"
        )
    raise RuntimeError(
        f"backward: the tensor of shape {t.shape} does not require grad and has no grad_fn, so "
        "nothing recorded how it was made. Set requires_grad=True on the inputs, and do not "
        "compute it under no_grad()."
    )


def seed_for(output: Tensor, gradient: Any, op_name: str) -> Tensor:
    if gradient is None:
        if output._data.size != 1:
            raise RuntimeError(
                f"{op_name}: a gradient can be implied only for a scalar output, but this one "
                f"has shape {output.shape}; pass gradient= (the weight of each output element, "
                "of that shape), or reduce it first, e.g. out.sum().backward()"
            )
        return plain_tensor(_ones(output._data.shape, output._data.dtype))
    seed = gradient if type(gradient) is Tensor else as_tensor(gradient)
    if seed._data.shape != output._data.shape:
        raise RuntimeError(
            f"{op_name}: gradient has shape {seed.shape} but the output has shape "
            f"{output.shape}; they must match"
        )
    if seed._data.dtype != output._data.dtype:
        seed = (
            seed.to(output.dtype)
            if grad_mode.recording.get()
            else from_array(seed._data.astype(output.dtype))
        )
    return seed


def _ones(shape: tuple, dtype: Any) -> np.ndarray:
    """A fresh array of ones, the implied seed of loss.backward(): copied from one kept per
    shape and dtype (all of size 1), as np.ones costs seven times a copy, about 1 us."""
    key = (shape, dtype)
    kept = _SEEDS.get(key)
    if kept is None:
        kept = _SEEDS[key] = np.ones(shape, dtype)
    return kept.copy()


_SEEDS: dict = {}


def run_backward(
    outputs: list,
    gradients: list,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Sequence[Tensor] | None = None,
) -> None:
    """Accumulate d(outputs)/d(leaf), each output weighted by its gradient, into each leaf's
    `.grad` (only into `inputs`' `.grad` when given): one sweep from all the outputs."""
    roots, seeds = roots_and_seeds(outputs, gradients, "backward")
    if retain_graph is None:
        retain_graph = create_graph
    wanted = None if inputs is None else [inputs] if type(inputs) is Tensor else list(inputs)
    capture = frozenset(t.grad_fn for t in wanted if t.grad_fn is not None) if wanted else _NOTHING
    grads, leaves = backprop(roots, seeds, wrap_saved_output, retain_graph, create_graph, capture)
    with _ACCUMULATING:  # threads sharing parameters add into .grad one at a time, as PyTorch
        _store_grads(leaves, wanted, grads, seeds, create_graph)


def roots_and_seeds(outputs: list, gradients: list, op_name: str) -> tuple[list, list]:
    """Where the sweep starts from each output, and the gradient it starts with."""
    roots, seeds = [], []  # loops, not comprehensions: on a small step their frames show
    for output, gradient in zip(outputs, gradients):
        roots.append(root_of(output))
        seeds.append(seed_for(output, gradient, op_name))
    return roots, seeds


# one lock for every .grad: backward's sweep runs in parallel across threads, only the (short)
# accumulation into the leaves is serialised
_ACCUMULATING = threading.Lock()


def _store_grads(leaves: Any, wanted: Any, grads: dict, seeds: list, create_graph: bool) -> None:
    """Each reached leaf's gradient into its `.grad`: stored, or added into the one there."""
    stored = set()  # arrays this sweep handed out: a new .grad aliases none of them
    for seed in seeds:
        stored.add(id(seed._data))
    site = None  # the user's line, found once, when a .grad is first added into
    for target in leaves if wanted is None else wanted:
        grad_fn = target.grad_fn
        if grad_fn is None:
            grad = grads.get(target)
        elif target._retains_grad:
            continue  # its retain_grad hook stored the gradient during the sweep
        else:
            grad = grads.get(grad_fn)
        if grad is None:
            continue
        if target._hooks is not None:
            grad = run_leaf_hooks(target, grad)
        if create_graph:
            target._grad = grad if target._grad is None else target._grad + grad
        elif target._grad is None:
            # .grad must be writable and alias nothing else: not the seed, not another leaf's
            # .grad; an array that owns its memory (base None) is writable unless someone froze it
            data = grad._data
            if data.base is not None or id(data) in stored or not data.flags.writeable:
                data = data.copy()
            stored.add(id(data))
            target._grad = plain_tensor(data)
        else:
            if site is None:
                site = user_site()
            _add_into_grad(target, grad._data, site)


_NOTHING: frozenset = frozenset()


def run_leaf_hooks(leaf: Tensor, grad: Tensor) -> Tensor:
    """A leaf's hooks, in the order registered, on its whole gradient; one that returns a
    tensor replaces it (backward stores the result, autograd.grad returns it, as PyTorch)."""
    if leaf._hooks is not None:
        for hook in list(leaf._hooks.values()):
            replaced = hook(grad)
            if replaced is not None:
                grad = checked_hook_result(hook, grad, replaced)
    return grad


# how many references an array has, counted from a call site (None where Python cannot count)
_getrefcount = getattr(sys, "getrefcount", None)


def _references_to_data(t: Tensor) -> int:
    """t._data's count with `t` held in a local, as _add_into_grad holds the .grad it counts."""
    return _getrefcount(t._data)


# the count for an array that nothing but its tensor holds, measured rather than assumed, as
# interpreters differ in the references a call itself holds
_ONLY_ITS_TENSOR_HOLDS_IT = (
    0 if _getrefcount is None else _references_to_data(from_array(np.zeros(1)))
)


def _add_into_grad(leaf: Tensor, data: np.ndarray, site: Site | None) -> None:
    """leaf.grad += data in place, as PyTorch does, so a reference to `.grad` taken earlier sees
    the sum; out of place when the array is shared (a view of it, a hook that kept it), is a
    view itself, or cannot take the sum in place."""
    current = leaf._grad
    # counted before this function holds the array itself, as _references_to_data counts
    if (
        current.grad_fn is None
        and 0 < _ONLY_ITS_TENSOR_HOLDS_IT
        and _getrefcount(current._data) <= _ONLY_ITS_TENSOR_HOLDS_IT
    ):
        held = current._data
        if (
            held.base is None
            and held.flags.writeable
            and held.shape == data.shape
            and held.dtype == data.dtype
        ):
            held += data
            # counted like any in-place change: a graph that saved this .grad must not use it
            versions.record_change(current, "backward (accumulating into .grad)", site)
            return
    leaf._grad = plain_tensor(current._data + data)


__all__ = [
    "root_of",
    "roots_and_seeds",
    "run_backward",
    "run_leaf_hooks",
    "seed_for",
    "wrap_saved_output",
]

"""In-place changes (`add_`, `x[i] = v`, `+=`, ...), recorded so gradients flow through them.

A change is computed out of place and written into the tensor's memory, which its views share;
a change through a view is recorded on the base it views. Each change is counted (see
`autodiff.versions`), so a node that saved the old value refuses to run backward with the new.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from pathgrad import dispatch, versions
from pathgrad.autodiff import grad_mode
from pathgrad.autodiff.node import Node
from pathgrad.errors import ShapeError, Site, op_at, op_context, user_site
from pathgrad.ops import elementwise
from pathgrad.tensor import Tensor, as_tensor, from_array


def same_memory(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two arrays are the very same elements (not for empty ones: any two match)."""
    return (
        a.size > 0
        and a.shape == b.shape
        and a.strides == b.strides
        and a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
    )


def everywhere(old: Tensor, value: Any) -> Tensor:
    """`value` in every place of `old`: a where() so that `old` gets a zero gradient."""
    return elementwise.where(np.ones(old._data.shape, dtype=bool), value, old)


def in_place(target: Tensor, op_name: str, compute: Any, keeps_old: bool = False) -> Tensor:
    """Change `target`'s memory to `compute(old value)` and record it, as PyTorch does.

    The new value is computed out of place from a stand-in for the old value that sits where
    `target` sat in the graph (a copy when the rule keeps it, `keeps_old`), then written into
    `target`'s memory, which its views share; `target` takes the new node as its grad_fn. A
    change through a view is recorded on the base it views (see _in_place_of_view). The change
    is counted, so a node that saved the old value refuses to run backward with the new one.
    """
    site = user_site()
    recording = grad_mode.recording.get()
    base = target._base if target._base is not None else target  # owns the version counter
    root, chain = _view_chain(target)
    _check_in_place_allowed(target, base, root, op_name, site)
    if target._base is not None:
        dispatch.refresh_if_stale(target)
    # a stale view (refreshed only when recording) must stay stale after an untracked change
    fresh = target._base is not None and target._view_version == base._version_count
    changed_outputs = _nodes_saving_memory(target, base)
    if chain and recording and (root is base or root._detached):
        _in_place_of_view(target, root, chain, compute, op_name)
    else:
        old = target._data.copy() if keeps_old and recording else target._data
        stand_in = from_array(old, target.grad_fn, target._requires_grad and recording)
        new = compute(stand_in)
        if target._base is not None and not target._detached and new._requires_grad:
            raise RuntimeError(
                f"{op_context(op_name)}: this tensor views memory through detach() or a view "
                "made under no_grad(), so an in-place change that needs gradients cannot be "
                "recorded on what it views. Change a .clone() of it, or make the view with "
                "gradients on."
            )
        new = _write(target, new, op_name)
        # under no_grad the value changes and the graph stays as it was, as in PyTorch
        if recording and (new.grad_fn is not None or target.grad_fn is not None):
            target.grad_fn = new.grad_fn
            target._requires_grad = new._requires_grad or target._requires_grad
    version = versions.record_change(base, op_name, site)
    if recording:
        base._recorded_change = version
    for node in changed_outputs:
        node.output_changed = versions.Change(versions.epoch, version, op_name, site)
        node.output_base = weakref.ref(base)  # for the versions in a message; no cycle
    if fresh:
        target._view_version = version
    return target


def _check_in_place_allowed(
    target: Tensor, base: Tensor, root: Tensor, op_name: str, site: Site | None
) -> None:
    if not target._data.flags.writeable:
        raise RuntimeError(
            f"{op_at(op_name, site)}: the tensor of shape {target.shape} is read-only memory: "
            "a view whose elements share memory (expand, broadcast_to, unfold with "
            "overlapping windows), or read-only data. Change a .clone() of it instead."
        )
    if not grad_mode.recording.get() or root._detached:
        return  # detach() cut the graph: its memory may change, the version counts it
    if root is not base:  # a view made under no_grad, or a view of one
        if not root._untracked_view_of_grad:
            return  # made from memory no gradient tracks
        raise RuntimeError(
            f"{op_at(op_name, site)}: this view of a tensor that requires grad (shape "
            f"{base.shape}) was made under no_grad(), so it cannot be changed in place while "
            "gradients are recorded: the change could not reach what it views (PyTorch "
            "refuses this too). Make the view with gradients on, change it under no_grad(), "
            "or change a .clone() of it."
        )
    if base.grad_fn is None and base._requires_grad:
        what = "a leaf tensor" if base is target else "a view of a leaf tensor"
        raise RuntimeError(
            f"{op_at(op_name, site)}: {what} that requires grad (shape {base.shape}) cannot "
            "be changed in place while gradients are recorded: its .grad would no longer "
            "describe the value it has. Change it under `with pg.no_grad():`, as an optimizer "
            "step does, or change a .clone() of it."
        )


def _nodes_saving_memory(target: Tensor, base: Tensor) -> list[Node]:
    """Nodes that saved their output in the memory about to change (exp, tanh, ...)."""
    nodes = []
    for t in (target, base):
        node = t.grad_fn
        if (
            node is not None
            and node.saved_out is not None
            and node not in nodes
            and np.may_share_memory(node.saved_out, target._data)
        ):
            nodes.append(node)
    return nodes


def _write(target: Tensor, new: Any, op_name: str) -> Tensor:
    """Write `new` into `target`'s memory, fitted to it; returns what was written."""
    new = _fit_in_place(new, target, op_name)
    np.copyto(target._data, new._data)
    return new


def _fit_in_place(new: Any, like: Tensor, op_name: str) -> Tensor:
    """`new` in `like`'s dtype (a recorded cast), or an error if it cannot take its place."""
    new = new if type(new) is Tensor else as_tensor(new)
    if new.shape != like.shape:
        raise ShapeError(
            f"{op_context(op_name)}: the result has shape {new.shape}, but the tensor changed "
            f"in place has shape {like.shape}"
        )
    if new.dtype == like.dtype:
        return new
    if not np.can_cast(new.dtype, like.dtype, casting="same_kind"):
        raise TypeError(
            f"{op_context(op_name)}: the result is {new.dtype}, which cannot be stored in place "
            f"in a {like.dtype} tensor; make the tensor {new.dtype} first"
        )
    return new.to(like.dtype)


def _view_chain(view: Tensor) -> tuple[Tensor, list[tuple]]:
    """The tensor a view's recorded view ops start from, and those ops in order (none for a
    tensor that is no recorded view). The start is the memory's base, a detach() result, or a
    view made under no_grad, whose link to its source was not recorded."""
    chain = []
    t = view
    while t._view_of is not None:
        source, definition, params, kwargs = t._view_of
        chain.append((definition, params, kwargs))
        t = source
    chain.reverse()
    return t, chain


def _replay(start: Tensor, chain: list[tuple]) -> Tensor:
    t = start
    for definition, params, kwargs in chain:
        t = dispatch.view_op(definition, t, params, kwargs)
    return t


def _in_place_of_view(
    view: Tensor, base: Tensor, chain: list[tuple], compute: Any, op_name: str
) -> None:
    """An in-place change through a view, recorded on its base (PyTorch's CopySlices):

        base_new = base_old + P^T(new - P(base_old))

    where P is the view (a selection of the base's elements) and P^T its VJP, which puts a
    view-shaped tensor back in place with zeros elsewhere. Gradients reach base_old outside the
    view and, through `compute`, inside it.
    """
    base_old = from_array(base._data.copy(), base.grad_fn, base._requires_grad)
    view_old = _replay(base_old, chain)
    new = compute(view_old)
    new = new if type(new) is Tensor else as_tensor(new)
    if not new._requires_grad:
        _write(view, new, op_name)
        return
    new = _fit_in_place(new, view, op_name)
    put_back = _unview(new - view_old, chain, base_old)
    base_new = _write(base, base_old + put_back, op_name)
    base.grad_fn = base_new.grad_fn
    base._requires_grad = True
    fresh = _replay(base, chain)
    view.grad_fn = fresh.grad_fn
    view._requires_grad = True


def _unview(delta: Tensor, chain: list[tuple], base_old: Tensor) -> Tensor:
    """P^T(delta): the view ops' own rules run backwards, recorded, on a view-shaped tensor."""
    rules = []
    t = base_old
    for definition, params, kwargs in chain:
        out, rule = definition.forward(t, *params, **kwargs)
        rules.append(rule)
        t = from_array(out)
    for rule in reversed(rules):
        delta = rule(delta)
    return delta

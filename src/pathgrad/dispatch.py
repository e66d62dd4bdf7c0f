"""`apply`: where an op runs and the graph grows (with `_engine_op`, its shortcut for the casts
and broadcasts the engine itself inserts). Nodes are made by `autodiff.node.make_node` only.

It converts inputs, brings broadcasting operands to one shape and dtype with recorded ops,
calls the forward and, when recording, links a Node to the output. View ops' outputs are tied
to their base here too, so in-place changes through views can be recorded.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from pathgrad.autodiff import grad_mode
from pathgrad.autodiff.node import Node, make_node
from pathgrad.errors import OWN_FILES, USER_FILES, user_frame
from pathgrad.ops import broadcast, registry
from pathgrad.ops.registry import NUMBER_TYPES
from pathgrad.ops.shape import memory_owner
from pathgrad.tensor import Tensor, as_tensor, from_array


def _operand(x: Any, name: str = "") -> Any:
    """Tensors and Python numbers pass; anything else array-like becomes a tensor."""
    if type(x) is Tensor or type(x) in NUMBER_TYPES:
        return x
    # a NumPy scalar promotes as a Python number, as PyTorch; so does the 0-d array that stands
    # for one while pg.compile traces (its value read there is checked at every replay)
    if isinstance(x, _NUMPY_SCALARS) or getattr(x, "numpy_scalar", False):
        return x.item()
    return _converted(x, name)


_NUMPY_SCALARS = (np.floating, np.integer, np.bool_)


def _converted(x: Any, name: str) -> Tensor:
    """`x` as a tensor, or a TypeError naming the op and the operand (off the hot path)."""
    try:
        return as_tensor(x)
    except TypeError as error:
        shown = repr(x) if len(repr(x)) <= 40 else repr(x)[:37] + "..."
        raise TypeError(
            f"{name}: an operand of type {type(x).__name__} ({shown}) is neither a tensor nor "
            f"a number ({error})"
        ) from None


def _edge(x: Any) -> Any:
    """Where input `x`'s gradient goes: its node, the leaf itself, or nowhere."""
    if type(x) is not Tensor:
        return None
    if x.grad_fn is not None:
        return x.grad_fn
    return x if x._requires_grad else None


def apply(definition: registry.OpDefinition, args: tuple, kwargs: dict) -> Any:
    """Run one op and, when recording, link its Node.

    This is every op's hot path, so the common arities are written out rather than looped.
    """
    try:
        arity = definition.inputs
        if not _recording() or not definition.differentiable:
            # off the record, as every rule of a first-order backward runs: no broadcast ops, no
            # stale-view refresh, no node (STYLE: there a rule costs one thin wrapper per call)
            record = False
            if arity == 1:
                if type(args[0]) is not Tensor:
                    args = (_converted(args[0], definition.name),) + args[1:]
            elif arity == 2:
                x, y = args[0], args[1]
                if (type(x) is not Tensor and type(x) not in NUMBER_TYPES) or (
                    type(y) is not Tensor and type(y) not in NUMBER_TYPES
                ):
                    args = (_operand(x, definition.name), _operand(y, definition.name)) + args[2:]
            else:
                args = _prepare_inputs(definition, args)[1]
        elif arity == 1:
            x = args[0]
            if type(x) is not Tensor:
                x = _converted(x, definition.name)
                args = (x,) + args[1:]
            if x._base is not None:
                refresh_if_stale(x)
            record = x._requires_grad
            if record:
                parents: tuple = (x.grad_fn or x,)
        elif arity == 2:
            x, y = args[0], args[1]
            if type(x) is Tensor:
                if x._base is not None:
                    refresh_if_stale(x)
                x_needs = x._requires_grad
            elif type(x) in NUMBER_TYPES:
                x_needs = False
            else:  # an array or a list: run again with it as a tensor
                return apply(definition, (_operand(x, definition.name),) + args[1:], kwargs)
            if type(y) is Tensor:
                if y._base is not None:
                    refresh_if_stale(y)
                y_needs = y._requires_grad
            elif type(y) in NUMBER_TYPES:
                y_needs = False
            else:
                return apply(definition, (x, _operand(y, definition.name)) + args[2:], kwargs)
            record = x_needs or y_needs
            if record:
                # recorded with one number, or two numbers of one type, is impossible: so one type
                # here means two tensors (a number never needs a broadcast: NEP 50 keeps it weak,
                # and it has no gradient)
                if definition.broadcast and type(x) is type(y):
                    x_data, y_data = x._data, y._data
                    if x_data.shape != y_data.shape or x_data.dtype != y_data.dtype:
                        x, y = _bring_pair_to_one_shape(definition.name, x, y)
                        args = (x, y) + args[2:]
                parents = (
                    (x.grad_fn or x) if x_needs else None,
                    (y.grad_fn or y) if y_needs else None,
                )
        elif arity == 3 and not definition.broadcast:  # the fused layers: linear, batch norm
            x, y, z = args[0], args[1], args[2]
            record = False
            for t in (x, y, z):
                if type(t) is Tensor:
                    if t._base is not None:
                        refresh_if_stale(t)
                    record = record or t._requires_grad
                elif type(t) not in NUMBER_TYPES:  # an array or a list: run again with tensors
                    return apply(
                        definition, (_operand(x), _operand(y), _operand(z)) + args[3:], kwargs
                    )
            if record:
                parents = (_edge(x), _edge(y), _edge(z))
        else:
            inputs, args, record = _prepare_inputs(definition, args)
            if record:
                parents = tuple(_edge(t) for t in inputs)
        try:
            out, vjp = definition.forward(*args, **kwargs)
        except ValueError:
            if definition.broadcast:
                _raise_if_unbroadcastable(definition.name, args[:arity])
            raise
        if type(out) is not _ndarray:
            out = np.asarray(out)
        result = _new_tensor(Tensor)
        result._data = out
        if record and (out.dtype in _FLOAT_DTYPES or out.dtype.kind == "f"):
            # the user's line, for a version error, so only where one can arise: a rule that
            # holds something (its defaults are what the version check reads; formulas, one per
            # input, nearly always hold one) or keeps its output. Two frames up (the op's call,
            # then the user's) in the common case, searched further from composites
            code = offset = None
            if type(vjp) is tuple:
                if arity == 2 and len(vjp) == 2:  # every step's binary ops: masked, written out
                    if not (x_needs and y_needs):
                        vjp = (vjp[0] if x_needs else None, vjp[1] if y_needs else None)
                else:
                    vjp = masked(vjp, parents)
                holds = True
            else:
                holds = vjp.__closure__ is not None or vjp.__defaults__ is not None
            if holds or definition.saves_out:
                frame = _getframe(2)
                code = frame.f_code
                if code.co_filename not in USER_FILES:
                    frame = _composite_caller(code)  # a composite's frame, or not yet sorted
                    code = None if frame is None else frame.f_code
                if code is not None:
                    offset = frame.f_lasti
            saved_out = out if definition.saves_out else None
            node = make_node(definition, vjp, parents, out, saved_out, code, offset, args, kwargs)
            result.grad_fn = node
            result._requires_grad = True
        else:
            result.grad_fn = None
            result._requires_grad = False
        return result
    except IndexError:
        _refuse_missing_operands(definition, args)
        raise


def masked(formulas: tuple, parents: tuple) -> tuple:
    """PyTorch's grad-input mask: of a rule's formulas, one per input, those of the inputs that
    need a gradient, None for the rest; what only a dropped formula saved is let go (a later
    in-place change of it is then no error, as in PyTorch)."""
    if len(formulas) != len(parents) or all(p is not None for p in parents):
        return formulas  # a wrong count is the sweep's to name
    return tuple([None if p is None else f for f, p in zip(formulas, parents)])


def _refuse_missing_operands(definition: registry.OpDefinition, args: tuple) -> None:
    """An op called with fewer tensor operands than it takes (`x.atan2()`): a TypeError naming
    it, as PyTorch's, where indexing the missing operand met an IndexError."""
    needed = 1 if definition.inputs == "sequence" else definition.inputs
    if len(args) < needed:
        operands = "operand" if needed == 1 else "operands"
        raise TypeError(
            f"{definition.name}() takes {needed} tensor {operands}, got {len(args)}"
        ) from None


def link_view(view: Tensor, args: tuple, kwargs: dict, definition: Any) -> None:
    """Make `view` share its source's memory bookkeeping, as PyTorch's views do: one version
    counter, and the view op kept so the view's grad_fn can be rebuilt after in-place changes."""
    source = args[0]
    if type(source) is not Tensor:
        return  # made from an ndarray here: no other tensor shares the bookkeeping
    if definition.view == "maybe" and memory_owner(view._data) is not memory_owner(source._data):
        return  # NumPy made a copy (a reshape of strided memory, an advanced index)
    base = source._base if source._base is not None else source
    view._base = base
    view._view_version = base._version_count
    # as PyTorch: a view made under no_grad is not a differentiable view
    if grad_mode.recording.get():
        view._view_of = (source, definition, args[1:], kwargs)
    elif source._requires_grad or source._untracked_view_of_grad:
        # a constant until a recorded in-place change of its memory makes it ambiguous
        view._untracked_view_of_grad = True


def refresh_if_stale(view: Tensor) -> None:
    """A view whose base changed in place since its grad_fn was made gets a new grad_fn: the
    view op replayed on the base as it is now (PyTorch regenerates views the same way)."""
    base = view._base
    if view._view_version == base._version_count or not grad_mode.recording.get():
        return  # under no_grad nothing is recorded, so the view stays stale until it is
    if view._view_of is None:
        if view._untracked_view_of_grad and base._recorded_change > view._view_version:
            _refuse_untracked_view(base)
        return
    source, definition, params, kwargs = view._view_of
    if source._base is not None:
        refresh_if_stale(source)
    fresh = view_op(definition, source, params, kwargs)
    if fresh.grad_fn is not None:
        view.grad_fn = fresh.grad_fn
        view._requires_grad = True
    view._view_version = base._version_count


def _refuse_untracked_view(base: Tensor) -> None:
    change = base._changes[-1]
    raise RuntimeError(
        f"a view made under no_grad() of a tensor that requires grad is used after its memory "
        f"was changed in place while gradients were recorded ({change.op} at "
        f"{change.site or 'an unknown line'}): whether the view carries that change's gradient "
        "is ambiguous, so pathgrad refuses, as PyTorch does. Make the view and the change both "
        "under no_grad(), or both outside it."
    )


def view_op(definition: Any, source: Tensor, params: tuple, kwargs: dict) -> Tensor:
    """Run a view op again on `source`, linked as its registered call would link it."""
    args = (source,) + params
    view = apply(definition, args, kwargs)
    link_view(view, args, kwargs, definition)
    return view


_getframe = sys._getframe
_ndarray = np.ndarray
# a set lookup where .kind costs twice as much; other floats (byte-swapped) fall to .kind
_FLOAT_DTYPES = frozenset(np.dtype(t) for t in (np.float16, np.float32, np.float64))
_recording = grad_mode.recording.get  # every op asks, so bound once


def _composite_caller(code: Any) -> Any:
    """The user's frame, where the frame two up from `apply` (`code`'s) was not one: most often
    a composite op (matmul, mean, ...) called straight from the user's line, one frame further."""
    if code.co_filename in OWN_FILES:
        try:
            frame = _getframe(4)  # this function, apply, the op's call, the composite
        except ValueError:
            return None
        if frame.f_code.co_filename in USER_FILES:
            return frame
    return user_frame(3)


def record_function(definition: Any, vjp: Any, parents: tuple, out: Tensor, saved_out: Any) -> Node:
    """Make `out`, an output of a custom Function (`autograd.Function`), the result of a
    recorded node whose rule is `vjp`, as `apply` records an op's output; `saved_out` is its
    array where the Function saved it for backward (the sweep then hands the rule `out`)."""
    frame = user_frame(1)
    code, offset = (None, None) if frame is None else (frame.f_code, frame.f_lasti)
    node = make_node(definition, vjp, parents, out._data, saved_out, code, offset, (), {})
    out.grad_fn = node
    out._requires_grad = True
    return node


# Tensor.__init__ without a call: every op's output is made here.
_new_tensor = object.__new__


def _prepare_inputs(definition: registry.OpDefinition, args: tuple) -> tuple[tuple, tuple, bool]:
    """Inputs of ops with three tensor inputs or a sequence of them (where, cat)."""
    if definition.inputs == "sequence":
        inputs = tuple(as_tensor(t) for t in args[0])
        for t in inputs:
            if t._base is not None:
                refresh_if_stale(t)
        record = (
            grad_mode.recording.get()
            and definition.differentiable
            and any(t._requires_grad for t in inputs)
        )
        if record:
            inputs = _promote_sequence(inputs)
        return inputs, (inputs,) + args[1:], record
    arity = definition.inputs
    inputs = tuple(_operand(t) for t in args[:arity])
    for t in inputs:
        if type(t) is Tensor and t._base is not None:
            refresh_if_stale(t)
    record = (
        grad_mode.recording.get()
        and definition.differentiable
        and any(type(t) is Tensor and t._requires_grad for t in inputs)
    )
    if record and definition.broadcast:
        inputs = _bring_to_one_shape(definition.name, inputs)
    return inputs, inputs + args[arity:], record


def _expand(t: Tensor, shape: tuple, dtype: Any) -> Tensor:
    """`t` cast to `dtype` and broadcast to `shape` by recorded `to` and `broadcast_to` ops, for
    an operand that needs a gradient, which the engine brings to its op's shape and dtype
    (`broadcast.expand_as_needed`, without the public calls: `t` is a tensor already)."""
    if t._data.dtype != dtype:
        t = _engine_op(_TO, t, dtype)
    if t._data.shape != shape:
        view = _engine_op(_BROADCAST_TO, t, shape)
        link_view(view, (t, shape), _NO_KWARGS, _BROADCAST_TO)
        t = view
    return t


def _engine_op(definition: registry.OpDefinition, t: Tensor, parameter: Any) -> Tensor:
    """`definition`'s op on `t` (which requires grad), recorded as `apply` records it. Every
    broadcast operand of a binary op comes here, so the generic path's checks, none of which
    can fail here, are skipped; these ops save no tensor, so no version error can name them and
    they need no user's line."""
    out, vjp = definition.forward(t, parameter)
    result = _new_tensor(Tensor)
    result._data = out
    parents = (t.grad_fn or t,)
    result.grad_fn = make_node(
        definition, vjp, parents, out, None, None, None, (t, parameter), _NO_KWARGS
    )
    result._requires_grad = True
    return result


_TO = broadcast.to.definition
_BROADCAST_TO = broadcast.broadcast_to.definition
_NO_KWARGS: dict = {}


def _bring_pair_to_one_shape(op_name: str, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """`_bring_to_one_shape` of two tensors, written out: every bias add comes here, and the
    general loops cost it 0.7 us."""
    x_data, y_data = x._data, y._data
    shape, dtype = x_data.shape, x_data.dtype
    if y_data.shape != shape:
        shape = broadcast.broadcast_shapes(op_name, shape, y_data.shape)
    if y_data.dtype != dtype:
        dtype = np.result_type(dtype, y_data.dtype)
    if x._requires_grad and (x_data.shape != shape or x_data.dtype != dtype):
        x = _expand(x, shape, dtype)
    if y._requires_grad and (y_data.shape != shape or y_data.dtype != dtype):
        y = _expand(y, shape, dtype)
    return x, y


def _bring_to_one_shape(op_name: str, inputs: tuple) -> tuple:
    """Broadcast and cast, by recorded ops, each tensor operand that needs a gradient. Numbers
    stay: NEP 50 keeps them weak beside a float tensor, and they have no gradient. Shapes and
    dtypes fold pairwise (both are associative) in plain loops: every linear layer's bias
    comes here, and comprehensions' frames would show."""
    shape = dtype = None
    for t in inputs:
        if type(t) is Tensor:
            data = t._data
            if shape is None:
                shape, dtype = data.shape, data.dtype
                continue
            if data.shape != shape:
                shape = broadcast.broadcast_shapes(op_name, shape, data.shape)
            if data.dtype != dtype:
                dtype = np.result_type(dtype, data.dtype)
    brought = []
    for t in inputs:
        if type(t) is Tensor and t._requires_grad:
            data = t._data
            if data.shape != shape or data.dtype != dtype:
                t = _expand(t, shape, dtype)
        brought.append(t)
    return tuple(brought)


def _promote_sequence(inputs: tuple) -> tuple:
    dtype = np.result_type(*(t._data.dtype for t in inputs))
    return tuple(_expand(t, t._data.shape, dtype) for t in inputs)


def _raise_if_unbroadcastable(op_name: str, inputs: tuple) -> None:
    shapes = [np.shape(t._data if type(t) is Tensor else t) for t in inputs]
    broadcast.broadcast_shapes(op_name, *shapes)


registry.bind_engine(apply, as_tensor, link_view, Tensor, from_array)

__all__ = [
    "apply",
    "link_view",
    "record_function",
    "refresh_if_stale",
    "view_op",
]

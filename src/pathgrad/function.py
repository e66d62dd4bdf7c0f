"""`pg.autograd.Function`: ops written by the user, with their own forward and backward, as
PyTorch's torch.autograd.Function.

    class Exp(pg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            out = x.exp()
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, grad):
            (out,) = ctx.saved_tensors
            return grad * out

    y = Exp.apply(x)

forward runs with recording off; each differentiable output gets a node whose rule calls
backward, which returns one gradient per forward argument (None where there is none). Written
in pathgrad's ops, backward is itself differentiated under create_graph=True; the engine checks
what it returns as it checks every rule (shape and dtype, named by the Function's name).
"""

from __future__ import annotations

import functools
import inspect
import weakref
from typing import Any

import numpy as np

from pathgrad import dispatch, modes
from pathgrad.autodiff import grad_mode
from pathgrad.errors import FREED_GRAPH_MESSAGE
from pathgrad.ops.registry import OpDefinition
from pathgrad.tensor import Tensor, as_tensor, from_array


class FunctionCtx:
    """What forward hands backward: saved tensors, flags, and any attribute set on it."""

    def __init__(self, needs_input_grad: tuple) -> None:
        self.needs_input_grad = needs_input_grad
        self.materialize_grads = True
        self._to_save: tuple = ()
        self._non_differentiable: list = []
        self._saved_now: tuple | None = None  # the saved tensors while backward runs

    def save_for_backward(self, *tensors: Any) -> None:
        """Keep these tensors (inputs, outputs, or None) for backward's ctx.saved_tensors; an
        in-place change of one before backward is an error there, as for any op."""
        for t in tensors:
            if t is not None and type(t) is not Tensor:
                raise TypeError(
                    f"save_for_backward: saves tensors (or None), got {type(t).__name__}; keep "
                    "other values as attributes of ctx"
                )
        self._to_save = tensors

    @property
    def saved_tensors(self) -> tuple:
        if self._saved_now is None:
            raise RuntimeError(
                "ctx.saved_tensors is read in backward: the tensors forward saved, made ready "
                "for each backward call"
            )
        return self._saved_now

    def mark_non_differentiable(self, *outputs: Tensor) -> None:
        """These outputs (of forward) get no gradient, as integer outputs never do."""
        self._non_differentiable.extend(outputs)

    def set_materialize_grads(self, value: bool) -> None:
        """With False, backward sees None, not zeros, for outputs that received no gradient."""
        self.materialize_grads = bool(value)

    def mark_dirty(self, *tensors: Tensor) -> None:
        raise NotImplementedError(
            "mark_dirty: custom Functions that change their inputs in place are not supported; "
            "return a new tensor instead"
        )


class Function:
    """Subclass with static `forward(ctx, *args)` and `backward(ctx, *grads)`, then call
    `YourFunction.apply(*args)`. PyTorch 2's form, forward without ctx plus
    `setup_context(ctx, inputs, output)`, works too."""

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any) -> Any:
        raise NotImplementedError("a Function subclass defines forward(ctx, *args)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        raise NotImplementedError("a Function subclass defines backward(ctx, *grad_outputs)")

    setup_context = None

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        if kwargs:  # bound to forward's parameters, in order, defaults filled: as PyTorch's
            args = _bound(cls, args, kwargs)
        needs = tuple(type(a) is Tensor and a.requires_grad for a in args)
        ctx = FunctionCtx(needs)
        with modes.no_grad():
            if cls.setup_context is not None:
                outputs = cls.forward(*args)
                cls.setup_context(ctx, args, outputs)
            else:
                outputs = cls.forward(ctx, *args)
        if not (grad_mode.recording.get() and any(needs)):
            return outputs
        return _record(cls, ctx, args, outputs)


def _bound(cls: type, args: tuple, kwargs: dict) -> tuple:
    """`apply`'s arguments by position, keywords put in their places (one gradient per
    forward argument, as backward returns them)."""
    signature = inspect.signature(cls.forward)
    parameters = list(signature.parameters.values())
    if cls.setup_context is None:
        parameters = parameters[1:]  # ctx
    try:
        bound = inspect.Signature(parameters).bind(*args, **kwargs)
    except TypeError as error:
        raise TypeError(f"{cls.__name__}.apply: {error}") from None
    bound.apply_defaults()
    return tuple(bound.args) + tuple(bound.kwargs.values())


def once_differentiable(backward: Any) -> Any:
    """For a backward written outside pathgrad's ops (raw NumPy, say): it runs with recording
    off, and under create_graph its gradients carry a node that refuses a second backward,
    rather than passing for constants with a zero second derivative."""

    @functools.wraps(backward)
    def wrapper(ctx: FunctionCtx, *grads: Any) -> Any:
        ctx._once_differentiable = True
        with modes.no_grad():
            return backward(ctx, *grads)

    return wrapper


def _refusing(name: str, grad: Tensor) -> Tensor:
    """`grad` on a node whose rule refuses: a second derivative through a once_differentiable
    backward is an error, as in PyTorch."""
    refused = from_array(grad._data)

    def vjp(incoming, out=None):
        raise RuntimeError(
            f"{name}: its backward is once_differentiable (it computes outside pathgrad's "
            "ops), so no second derivative goes through it"
        )

    definition = OpDefinition(f"{name}OnceDifferentiable", None, 1, False, False, True)
    dispatch.record_function(definition, vjp, (None,), refused, None)
    return refused


_DEFINITIONS: dict = {}


def _definition(cls: type) -> OpDefinition:
    """One op definition per Function class (not registered: it is the user's, not pathgrad's)."""
    definition = _DEFINITIONS.get(cls)
    if definition is None:
        # its saved tensors are what forward gave ctx.save_for_backward (the rule's
        # saved_inputs argument; saved outputs are checked as outputs), as PyTorch checks them
        definition = OpDefinition(f"{cls.__name__}", None, "sequence", False, False, True)
        _DEFINITIONS[cls] = definition
    return definition


def _record(cls: type, ctx: FunctionCtx, args: tuple, outputs: Any) -> Any:
    single = not isinstance(outputs, tuple)
    results = list((outputs,) if single else outputs)
    inputs = {id(a) for a in args if type(a) is Tensor}
    skipped = {id(t) for t in ctx._non_differentiable}
    recorded = []  # (position, tensor) of the outputs that get nodes
    for position, out in enumerate(results):
        if type(out) is not Tensor or id(out) in skipped or out._data.dtype.kind != "f":
            continue
        if id(out) in inputs or out.grad_fn is not None or out._base is not None:
            # an input handed back, or a view: a new tensor of its own, so the input's record
            # and memory stay as they were
            out = from_array(out._data.copy())
            results[position] = out
        recorded.append((position, out))
    outputs_at = {id(out): position for position, out in recorded}
    saved_inputs = list(ctx._to_save)  # per slot: a saved tensor that is not an output
    saved_outputs = {}  # slot -> output position (None in saved_inputs, filled at backward)
    for slot, t in enumerate(ctx._to_save):
        if t is not None and id(t) in outputs_at:
            saved_outputs[slot] = outputs_at[id(t)]
            saved_inputs[slot] = None
    ctx._to_save = ()
    parents = tuple(
        (a.grad_fn or a) if needs else None for a, needs in zip(args, ctx.needs_input_grad)
    )
    definition = _definition(cls)
    nodes: dict = {}
    count = len(results)
    for position, out in recorded:
        vjp = _rule(
            cls, ctx, args, parents, position, count, results, saved_inputs, saved_outputs, nodes
        )
        saved = out._data if position in saved_outputs.values() else None
        nodes[position] = weakref.ref(
            dispatch.record_function(definition, vjp, parents, out, saved)
        )
    return results[0] if single else tuple(results)


def _rule(cls, ctx, args, parents, position, count, results, saved_inputs, saved_outputs, nodes):
    shapes = [(r._data.shape, r._data.dtype) if type(r) is Tensor else None for r in results]
    name = cls.__name__

    def vjp(grad, out=None, saved_inputs=saved_inputs):  # saved: the version check reads it
        grads: list = [None] * count
        grads[position] = grad
        if ctx.materialize_grads:
            for k, meta in enumerate(shapes):
                if grads[k] is None and meta is not None and meta[1].kind == "f":
                    grads[k] = as_tensor(np.zeros(meta[0], meta[1]))
        saved = list(saved_inputs)
        for slot, k in saved_outputs.items():
            saved[slot] = out if k == position else _saved_output(nodes, k, name)
        ctx._saved_now = tuple(saved)
        try:
            returned = cls.backward(ctx, *grads)
        finally:
            ctx._saved_now = None
        grads_in = _input_grads(name, returned, args, parents)
        if getattr(ctx, "_once_differentiable", False) and grad_mode.recording.get():
            grads_in = tuple(None if g is None else _refusing(name, g) for g in grads_in)
        return grads_in

    return vjp


def _saved_output(nodes: dict, position: int, name: str) -> Tensor:
    """Another output the Function saved, rebuilt on its node, so second derivatives reach it."""
    node = nodes[position]()
    if node is None or node.saved_out is None:
        raise RuntimeError(FREED_GRAPH_MESSAGE.format(name=name))
    changed = node.__dict__.get("output_changed")
    if changed is not None:
        raise RuntimeError(
            f"backward through {name}: output {position}, which it saved, was changed in place "
            f"by {changed.op} after it was saved"
        )
    return from_array(node.saved_out, node)


def _input_grads(name: str, returned: Any, args: tuple, parents: tuple) -> tuple:
    """backward's gradients, one per forward argument, as the engine takes a rule's."""
    grads = returned if isinstance(returned, tuple) else (returned,)
    if len(grads) != len(args):
        raise RuntimeError(
            f"{name}.backward returned {len(grads)} gradients for {len(args)} forward "
            "arguments; return one per argument (None where there is none)"
        )
    out = []
    for position, (grad, arg, parent) in enumerate(zip(grads, args, parents)):
        if grad is not None and type(arg) is not Tensor:
            raise RuntimeError(
                f"{name}.backward returned a gradient for argument {position}, which is a "
                f"{type(arg).__name__}, not a tensor; return None there"
            )
        if grad is not None and type(grad) is not Tensor:
            raise TypeError(
                f"{name}.backward returned a {type(grad).__name__} for argument {position}; "
                "return a tensor or None"
            )
        out.append(grad if parent is not None else None)
    return tuple(out)


__all__ = ["Function", "FunctionCtx", "once_differentiable"]

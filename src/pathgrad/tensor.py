"""Tensor: a thin shell over an ndarray, and the engine that runs and records ops.

Every method is one line that calls an op. `apply` is the one place an op runs: it converts
inputs, brings broadcasting operands to one shape and dtype with recorded ops, calls the
forward and, when recording, links a Node to the output.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from pathgrad.autodiff import grad_mode, versions
from pathgrad.autodiff.backprop import RETAIN_GRAD, backprop
from pathgrad.autodiff.node import Node
from pathgrad.errors import ShapeError, op_context, user_frame_location
from pathgrad.ops import broadcast, compare, elementwise, index, linalg, reduce, registry, shape
from pathgrad.ops.registry import NUMBER_TYPES

DEFAULT_FLOAT = np.dtype(np.float32)
DEFAULT_INT = np.dtype(np.int64)


class Tensor:
    """An ndarray that records the ops applied to it, so gradients can flow back.

    Make one with `pg.tensor(data, requires_grad=True)`; `.data` is the ndarray itself.
    """

    __slots__ = ("data", "grad", "requires_grad", "grad_fn", "__weakref__", "__dict__")
    # Rarely set, so class defaults rather than per-tensor stores on every op's hot path:
    # hooks, and the view bookkeeping (the tensor whose memory this one views, the view op that
    # made it, the base's version when its grad_fn was made, the count of in-place changes).
    _hooks = None
    _retains_grad = False
    _base = None
    _view_of = None
    _view_version = 0
    _version = 0
    # numpy defers `ndarray * tensor` to Tensor.__rmul__ instead of converting the tensor
    __array_ufunc__ = None

    def __init__(self, data: np.ndarray, grad_fn: Node | None = None, requires_grad: bool = False):
        self.data = data
        self.grad = None
        self.grad_fn = grad_fn
        self.requires_grad = requires_grad or grad_fn is not None

    # numpy interop and Python protocol

    def __array__(self, dtype=None, copy=None):
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    __hash__ = object.__hash__

    def __len__(self) -> int:
        if not self.data.ndim:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor of shape {self.data.shape} is ambiguous: use "
                ".any() or .all()"
            )
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iub" or self.data.size != 1:
            raise TypeError("only integer tensors of one element can be used as an index")
        return int(self.item())

    def __repr__(self) -> str:
        from pathgrad.format import format_tensor

        return format_tensor(self)

    # properties

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def T(self) -> Tensor:
        return shape.permute(self, tuple(range(self.data.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:
        return shape.transpose(self, -2, -1)

    def size(self, dim: int | None = None):
        return self.data.shape if dim is None else self.data.shape[dim]

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return int(self.data.size)

    def numpy(self) -> np.ndarray:
        return self.data

    def item(self):
        if self.data.size != 1:
            raise ValueError(
                f"item: only a tensor of one element converts to a number, this one has shape "
                f"{self.data.shape}"
            )
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def clone(self) -> Tensor:
        """A copy with its own memory, still in the graph."""
        return elementwise.clone(self)

    def detach(self) -> Tensor:
        """The same data, cut from the graph (it shares the version counter, as PyTorch's)."""
        detached = Tensor(self.data)
        detached._base = self._base if self._base is not None else self
        return detached

    # in-place changes, recorded so gradients flow through them (see _in_place)

    def add_(self, other, alpha=1):
        return _in_place(self, "add_", lambda old: old + (other if alpha == 1 else other * alpha))

    def sub_(self, other, alpha=1):
        return _in_place(self, "sub_", lambda old: old - (other if alpha == 1 else other * alpha))

    def mul_(self, other):
        return _in_place(self, "mul_", lambda old: old * other, keeps_old=True)

    def div_(self, other):
        return _in_place(self, "div_", lambda old: old / other, keeps_old=True)

    def pow_(self, exponent):
        return _in_place(self, "pow_", lambda old: old**exponent, keeps_old=True)

    def clamp_(self, min=None, max=None):
        return _in_place(self, "clamp_", lambda old: elementwise.clamp(old, min, max))

    def relu_(self):
        return _in_place(self, "relu_", elementwise.relu)

    def zero_(self):
        return _in_place(self, "zero_", lambda old: _everywhere(old, 0.0))

    def fill_(self, value):
        return _in_place(self, "fill_", lambda old: _everywhere(old, value))

    def copy_(self, src):
        return _in_place(self, "copy_", lambda old: _everywhere(old, src))

    def masked_fill_(self, mask, value):
        return _in_place(self, "masked_fill_", lambda old: elementwise.where(mask, value, old))

    def masked_fill(self, mask, value):
        return elementwise.where(mask, value, self)

    def __setitem__(self, key, value) -> None:
        positions = index._Normalized(*index.normalize_index(key))
        region = self.data[positions[0]]
        if type(value) is Tensor and _same_memory(value.data, region):
            return  # `x[i] *= 2` ends by storing the changed view into itself: nothing to do
        if type(value) not in NUMBER_TYPES:
            value = broadcast.broadcast_to(as_tensor(value), region.shape)
        _in_place(self, "setitem", lambda old: index.index_put(old, value, positions))

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(_non_float_grad_message(self.data.dtype))
        if not self.is_leaf:
            raise RuntimeError(
                "requires_grad_: only leaf tensors can change requires_grad; use .detach() "
                "to make a new leaf"
            )
        self.requires_grad = requires_grad
        return self

    def register_hook(self, hook):
        """Call `hook(grad)` when this tensor's gradient is computed; a tensor it returns
        replaces the gradient. Returns a handle whose `remove()` takes the hook off."""
        if not self.requires_grad:
            raise RuntimeError(
                "register_hook: this tensor does not require grad, so no gradient will reach it"
            )
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = {}
            hooks = self._hooks
        else:
            if self.grad_fn.hooks is None:
                self.grad_fn.hooks = {}
            hooks = self.grad_fn.hooks
        handle = HookHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in `.grad` after backward, as leaves do."""
        if self.grad_fn is None:
            if not self.requires_grad:
                raise RuntimeError("retain_grad: this tensor does not require grad")
            return  # leaves keep their gradient anyway
        if self._retains_grad:
            return
        self._retains_grad = True
        # a weak reference: the graph must not keep its outputs alive (no cycles)
        target = weakref.ref(self)

        def store(grad):
            tensor = target()
            if tensor is None:
                return
            if grad_mode.enabled:  # create_graph: the stored gradient keeps its graph
                tensor.grad = grad if tensor.grad is None else tensor.grad + grad
            else:  # a copy: the sweep may hand the same array to other inputs
                previous = tensor.grad
                tensor.grad = Tensor(
                    grad.data.copy() if previous is None else previous.data + grad.data
                )

        if self.grad_fn.hooks is None:
            self.grad_fn.hooks = {}
        # stored under its own key, which the sweep runs after every other hook, as PyTorch
        self.grad_fn.hooks[RETAIN_GRAD] = store

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's `.grad` (weighted by `gradient`)."""
        run_backward(self, gradient, retain_graph, create_graph, inputs)

    # arithmetic

    def __add__(self, other):
        return elementwise.add(self, other)

    def __radd__(self, other):
        return elementwise.add(other, self)

    def __sub__(self, other):
        return elementwise.sub(self, other)

    def __rsub__(self, other):
        return elementwise.sub(other, self)

    def __mul__(self, other):
        return elementwise.mul(self, other)

    def __rmul__(self, other):
        return elementwise.mul(other, self)

    def __truediv__(self, other):
        return elementwise.div(self, other)

    def __rtruediv__(self, other):
        return elementwise.div(other, self)

    def __pow__(self, other):
        return elementwise.pow(self, other)

    def __rpow__(self, other):
        return elementwise.pow(other, self)

    def __matmul__(self, other):
        return linalg.matmul(self, other)

    def __rmatmul__(self, other):
        return linalg.matmul(other, self)

    def __neg__(self):
        return elementwise.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return elementwise.abs(self)

    def __eq__(self, other):  # type: ignore[override]
        return compare.eq(self, other)

    def __ne__(self, other):  # type: ignore[override]
        return compare.ne(self, other)

    def __lt__(self, other):
        return compare.lt(self, other)

    def __le__(self, other):
        return compare.le(self, other)

    def __gt__(self, other):
        return compare.gt(self, other)

    def __ge__(self, other):
        return compare.ge(self, other)

    def __and__(self, other):
        return compare.bitwise_and(self, other)

    def __rand__(self, other):
        return compare.bitwise_and(other, self)

    def __or__(self, other):
        return compare.bitwise_or(self, other)

    def __ror__(self, other):
        return compare.bitwise_or(other, self)

    def __xor__(self, other):
        return compare.bitwise_xor(self, other)

    def __invert__(self):
        return compare.bitwise_not(self)

    def __getitem__(self, key):
        return index.getitem(self, key)

    def add(self, other):
        return elementwise.add(self, other)

    def sub(self, other):
        return elementwise.sub(self, other)

    def mul(self, other):
        return elementwise.mul(self, other)

    def div(self, other):
        return elementwise.div(self, other)

    def pow(self, exponent):
        return elementwise.pow(self, exponent)

    def matmul(self, other):
        return linalg.matmul(self, other)

    def neg(self):
        return elementwise.neg(self)

    def abs(self):
        return elementwise.abs(self)

    def exp(self):
        return elementwise.exp(self)

    def log(self):
        return elementwise.log(self)

    def log1p(self):
        return elementwise.log1p(self)

    def sqrt(self):
        return elementwise.sqrt(self)

    def sin(self):
        return elementwise.sin(self)

    def cos(self):
        return elementwise.cos(self)

    def tanh(self):
        return elementwise.tanh(self)

    def sigmoid(self):
        return elementwise.sigmoid(self)

    def relu(self):
        return elementwise.relu(self)

    def erf(self):
        return elementwise.erf(self)

    def clamp(self, min=None, max=None):
        return elementwise.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return elementwise.maximum(self, other)

    def minimum(self, other):
        return elementwise.minimum(self, other)

    def eq(self, other):
        return compare.eq(self, other)

    def ne(self, other):
        return compare.ne(self, other)

    def lt(self, other):
        return compare.lt(self, other)

    def le(self, other):
        return compare.le(self, other)

    def gt(self, other):
        return compare.gt(self, other)

    def ge(self, other):
        return compare.ge(self, other)

    # reductions

    def sum(self, dim=None, keepdim=False):
        return reduce.sum(self, dim, keepdim)

    def mean(self, dim=None, keepdim=False):
        return reduce.mean(self, dim, keepdim)

    def var(self, dim=None, *, correction=1, keepdim=False, unbiased=None):
        return reduce.var(self, dim, correction=correction, keepdim=keepdim, unbiased=unbiased)

    def std(self, dim=None, *, correction=1, keepdim=False, unbiased=None):
        return reduce.std(self, dim, correction=correction, keepdim=keepdim, unbiased=unbiased)

    def max(self, dim=None, keepdim=False):
        return reduce.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return reduce.min(self, dim, keepdim)

    def amax(self, dim=None, keepdim=False):
        return reduce.amax(self, dim, keepdim)

    def amin(self, dim=None, keepdim=False):
        return reduce.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return reduce.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return reduce.argmin(self, dim, keepdim)

    def prod(self, dim=None, keepdim=False):
        return reduce.prod(self, dim, keepdim)

    def logsumexp(self, dim, keepdim=False):
        return reduce.logsumexp(self, dim, keepdim)

    def norm(self, p="fro", dim=None, keepdim=False):
        return reduce.norm(self, p, dim, keepdim)

    def softmax(self, dim):
        return reduce.softmax(self, dim)

    def log_softmax(self, dim):
        return reduce.log_softmax(self, dim)

    def all(self):
        return Tensor(np.asarray(self.data.all()))

    def any(self):
        return Tensor(np.asarray(self.data.any()))

    # shape

    def reshape(self, *shape_):
        return shape.reshape(self, *shape_)

    def view(self, *shape_):
        return shape.reshape(self, *shape_)

    def transpose(self, dim0, dim1):
        return shape.transpose(self, dim0, dim1)

    def permute(self, *dims):
        return shape.permute(self, *dims)

    def squeeze(self, dim=None):
        return shape.squeeze(self, dim)

    def unsqueeze(self, dim):
        return shape.unsqueeze(self, dim)

    def expand(self, *sizes):
        return shape.expand(self, *sizes)

    def expand_as(self, other):
        return broadcast.broadcast_to(self, other.shape)

    def broadcast_to(self, shape_):
        return broadcast.broadcast_to(self, shape_)

    def flatten(self, start_dim=0, end_dim=-1):
        return shape.flatten(self, start_dim, end_dim)

    def flip(self, dims):
        return shape.flip(self, dims)

    def repeat(self, *sizes):
        return shape.repeat(self, *sizes)

    def split(self, split_size_or_sections, dim=0):
        return shape.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return shape.chunk(self, chunks, dim)

    def gather(self, dim, index_):
        return index.gather(self, dim, index_)

    def index_select(self, dim, index_):
        return index.index_select(self, dim, index_)

    # dtype

    def to(self, dtype):
        return broadcast.to(self, np.dtype(dtype)) if np.dtype(dtype) != self.data.dtype else self

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def long(self):
        return self.to(np.int64)

    def type_as(self, other):
        return self.to(other.dtype)


class HookHandle:
    """Returned by `register_hook`; `remove()` takes the hook off."""

    _next_id = 0

    def __init__(self, hooks: dict) -> None:
        HookHandle._next_id += 1
        self.id = HookHandle._next_id
        self._hooks = hooks

    def remove(self) -> None:
        self._hooks.pop(self.id, None)


def _same_memory(a: np.ndarray, b: np.ndarray) -> bool:
    return (
        a.shape == b.shape
        and a.strides == b.strides
        and a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
    )


def _everywhere(old: Tensor, value: Any) -> Tensor:
    """`value` in every place of `old`: a where() so that `old` gets a zero gradient."""
    return elementwise.where(np.ones(old.data.shape, dtype=bool), value, old)


def _in_place(target: Tensor, op_name: str, compute: Any, keeps_old: bool = False) -> Tensor:
    """Change `target`'s memory to `compute(old value)` and record it, as PyTorch does.

    The new value is computed out of place from a stand-in for the old value that sits where
    `target` sat in the graph (a copy when the rule keeps it, `keeps_old`), then written into
    `target`'s memory, which its views share; `target` takes the new node as its grad_fn. A
    change through a view is recorded on the base it views (see _in_place_of_view). The change
    is counted, so a node that saved the old value refuses to run backward with the new one.
    """
    site = user_frame_location()
    base = target._base if target._base is not None else target
    _check_in_place_allowed(target, base, op_name, site)
    if target._base is not None:
        _refresh_if_stale(target)
    changed_outputs = _nodes_saving_memory(target, base)
    chain = _view_chain(target, base) if target._base is not None else None
    if chain is not None and grad_mode.enabled:
        _in_place_of_view(target, base, chain, compute, op_name)
    else:
        old = target.data.copy() if keeps_old and grad_mode.enabled else target.data
        stand_in = Tensor(old, target.grad_fn, target.requires_grad and grad_mode.enabled)
        new = compute(stand_in)
        if target._base is not None and new.requires_grad:
            raise RuntimeError(
                f"{op_context(op_name)}: this tensor views memory through detach() or a view "
                "made under no_grad(), so a change that needs gradients cannot be recorded on "
                "what it views. Change a .clone() of it, or make the view with gradients on."
            )
        new = _write(target, new, op_name)
        if new.grad_fn is not None or target.grad_fn is not None:
            target.grad_fn = new.grad_fn
            target.requires_grad = new.requires_grad or target.requires_grad
    version = versions.record_change(base, op_name, site)
    for node in changed_outputs:
        node.output_changed = versions.Change(versions.epoch, version, op_name, site)
    if target._base is not None:
        target._view_version = version
    return target


def _check_in_place_allowed(target: Tensor, base: Tensor, op_name: str, site: str) -> None:
    where_ = f"{op_name} at {site}" if site else op_name
    if not target.data.flags.writeable:
        raise RuntimeError(
            f"{where_}: the tensor of shape {target.shape} is read-only memory: a broadcast "
            "view (expand, broadcast_to), whose elements share memory, or read-only data. "
            "Change a .clone() of it instead."
        )
    if grad_mode.enabled and base.grad_fn is None and base.requires_grad:
        what = "a leaf tensor" if base is target else "a view of a leaf tensor"
        raise RuntimeError(
            f"{where_}: {what} that requires grad (shape {base.shape}) cannot be changed in "
            "place while gradients are recorded: its .grad would no longer describe the value "
            "it has. Change it under `with pg.no_grad():`, as an optimizer step does, or "
            "change a .clone() of it."
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
            and np.may_share_memory(node.saved_out, target.data)
        ):
            nodes.append(node)
    return nodes


def _write(target: Tensor, new: Any, op_name: str) -> Tensor:
    """Write `new` into `target`'s memory, fitted to it; returns what was written."""
    new = _fit_in_place(new, target, op_name)
    np.copyto(target.data, new.data)
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


def _view_chain(view: Tensor, base: Tensor) -> list[tuple] | None:
    """The view ops that lead from `base` to `view`, in order; None when a link was not
    recorded (a view made under no_grad, or by detach)."""
    chain = []
    t = view
    while t is not base:
        if t._view_of is None:
            return None
        source, definition, params, kwargs = t._view_of
        chain.append((definition, params, kwargs))
        t = source
    chain.reverse()
    return chain


def _view_op(definition: Any, source: Tensor, params: tuple, kwargs: dict) -> Tensor:
    """Run a view op again on `source`, linked as its registered call would link it."""
    args = (source,) + params
    view = apply(definition, args, kwargs)
    _link_view(view, args, kwargs, definition)
    return view


def _replay(start: Tensor, chain: list[tuple]) -> Tensor:
    t = start
    for definition, params, kwargs in chain:
        t = _view_op(definition, t, params, kwargs)
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
    base_old = Tensor(base.data.copy(), base.grad_fn, base.requires_grad)
    view_old = _replay(base_old, chain)
    new = compute(view_old)
    new = new if type(new) is Tensor else as_tensor(new)
    if not new.requires_grad:
        _write(view, new, op_name)
        return
    new = _fit_in_place(new, view, op_name)
    put_back = _unview(new - view_old, chain, base_old)
    base_new = _write(base, base_old + put_back, op_name)
    base.grad_fn = base_new.grad_fn
    base.requires_grad = True
    fresh = _replay(base, chain)
    view.grad_fn = fresh.grad_fn
    view.requires_grad = True


def _unview(delta: Tensor, chain: list[tuple], base_old: Tensor) -> Tensor:
    """P^T(delta): the view ops' own rules run backwards, recorded, on a view-shaped tensor."""
    rules = []
    t = base_old
    for definition, params, kwargs in chain:
        out, rule = definition.forward(t, *params, **kwargs)
        rules.append(rule)
        t = Tensor(out)
    for rule in reversed(rules):
        delta = rule(delta)
    return delta


def _non_float_grad_message(dtype: np.dtype) -> str:
    return (
        f"only floating-point tensors can require gradients, got dtype {dtype}; make the data "
        "floating, e.g. pg.tensor(data, dtype=pg.float32, requires_grad=True)"
    )


def as_tensor(x: Any, dtype: Any = None) -> Tensor:
    """A tensor sharing `x`'s memory where it can: tensors pass through, ndarrays keep their
    dtype, Python floats and lists of them become float32 and ints int64, as PyTorch."""
    if type(x) is Tensor:
        return x if dtype is None else x.to(dtype)
    if isinstance(x, np.ndarray):
        data = x if dtype is None else x.astype(dtype, copy=False)
    elif isinstance(x, np.generic):
        data = np.asarray(x, dtype=dtype)
    else:
        data = _from_python(x, dtype)
    return Tensor(data)


def _from_python(x: Any, dtype: Any) -> np.ndarray:
    if isinstance(x, (list, tuple)) and any(type(item) is Tensor for item in _flat(x)):
        x = [_unwrap(item) for item in x]
    data = np.asarray(x)
    if dtype is not None:
        return data.astype(dtype, copy=False)
    if data.dtype.kind == "f":
        return data.astype(DEFAULT_FLOAT)
    if data.dtype.kind in "iu":
        return data.astype(DEFAULT_INT, copy=False)
    if data.dtype.kind not in "b":
        raise TypeError(f"tensor: cannot make a tensor from {type(x).__name__} data ({data.dtype})")
    return data


def _flat(items):
    for item in items:
        if isinstance(item, (list, tuple)):
            yield from _flat(item)
        else:
            yield item


def _unwrap(item):
    if type(item) is Tensor:
        return item.data
    if isinstance(item, (list, tuple)):
        return [_unwrap(i) for i in item]
    return item


def _operand(x: Any) -> Any:
    """Tensors and Python numbers pass; anything else array-like becomes a tensor."""
    if type(x) is Tensor or type(x) in NUMBER_TYPES:
        return x
    return as_tensor(x)


def _edge(x: Any) -> Any:
    """Where input `x`'s gradient goes: its node, the leaf itself, or nowhere."""
    if type(x) is not Tensor:
        return None
    if x.grad_fn is not None:
        return x.grad_fn
    return x if x.requires_grad else None


def apply(definition: registry.OpDefinition, args: tuple, kwargs: dict) -> Any:
    """Run one op: the only place ops execute and the graph grows.

    This is every op's hot path, so the common arities are written out rather than looped.
    """
    arity = definition.inputs
    if arity == 1:
        x = args[0]
        if type(x) is not Tensor:
            x = as_tensor(x)
            args = (x,) + args[1:]
        if x._base is not None:
            _refresh_if_stale(x)
        record = x.requires_grad and grad_mode.enabled and definition.differentiable
        if record:
            parents: tuple = (x.grad_fn or x,)
    elif arity == 2:
        x, y = args[0], args[1]
        x_is_tensor = type(x) is Tensor
        if not x_is_tensor and type(x) not in NUMBER_TYPES:
            x, x_is_tensor = as_tensor(x), True
        y_is_tensor = type(y) is Tensor
        if not y_is_tensor and type(y) not in NUMBER_TYPES:
            y, y_is_tensor = as_tensor(y), True
        if x_is_tensor:
            if x._base is not None:
                _refresh_if_stale(x)
            x_needs = x.requires_grad
        else:
            x_needs = False
        if y_is_tensor:
            if y._base is not None:
                _refresh_if_stale(y)
            y_needs = y.requires_grad
        else:
            y_needs = False
        record = (x_needs or y_needs) and grad_mode.enabled and definition.differentiable
        if (
            record
            and definition.broadcast
            and x_is_tensor
            and y_is_tensor
            and (x.data.shape != y.data.shape or x.data.dtype != y.data.dtype)
        ):
            # a Python number never needs this: NEP 50 keeps it weak, and it has no gradient
            x, y = _bring_pair_to_one_shape(definition.name, x, y)
        if x is not args[0] or y is not args[1]:
            args = (x, y) + args[2:]
        if record:
            parents = (
                (x.grad_fn or x) if x_needs else None,
                (y.grad_fn or y) if y_needs else None,
            )
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
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    result = _new_tensor(Tensor)
    result.data = out
    result.grad = None
    if record and out.dtype.kind == "f":
        node = _new_node(Node)
        node.definition = definition
        node.vjp = vjp
        node.parents = parents
        node.shape = out.shape
        node.dtype = out.dtype
        node.saved_out = out if definition.saves_out else None
        node.epoch = versions.epoch
        if _recording_inputs:
            node.inputs = (args, kwargs)
        result.grad_fn = node
        result.requires_grad = True
    else:
        result.grad_fn = None
        result.requires_grad = False
    return result


def _link_view(view: Tensor, args: tuple, kwargs: dict, definition: Any) -> None:
    """Make `view` share its source's memory bookkeeping, as PyTorch's views do: one version
    counter, and the view op kept so the view's grad_fn can be rebuilt after in-place changes."""
    source = args[0]
    if type(source) is not Tensor:
        return  # made from an ndarray here: no other tensor shares the bookkeeping
    if definition.view == "maybe" and not np.may_share_memory(view.data, source.data):
        return  # NumPy made a copy (a reshape of strided memory, an advanced index)
    base = source._base if source._base is not None else source
    view._base = base
    if grad_mode.enabled:  # as PyTorch: a view made under no_grad is not a differentiable view
        view._view_of = (source, definition, args[1:], kwargs)
        view._view_version = base._version


def _refresh_if_stale(view: Tensor) -> None:
    """A view whose base changed in place since its grad_fn was made gets a new grad_fn: the
    view op replayed on the base as it is now (PyTorch regenerates views the same way)."""
    base = view._base
    if view._view_version == base._version or view._view_of is None:
        return
    source, definition, params, kwargs = view._view_of
    if source._base is not None:
        _refresh_if_stale(source)
    fresh = _view_op(definition, source, params, kwargs) if grad_mode.enabled else None
    if fresh is not None and fresh.grad_fn is not None:
        view.grad_fn = fresh.grad_fn
        view.requires_grad = True
    view._view_version = base._version


# Tensor.__init__ and Node's fields without a call: every op's output and node are made here.
_new_tensor = _new_node = object.__new__


def _prepare_inputs(definition: registry.OpDefinition, args: tuple) -> tuple[tuple, tuple, bool]:
    """Inputs of ops with three tensor inputs or a sequence of them (where, cat)."""
    if definition.inputs == "sequence":
        inputs = tuple(as_tensor(t) for t in args[0])
        for t in inputs:
            if t._base is not None:
                _refresh_if_stale(t)
        record = (
            grad_mode.enabled and definition.differentiable and any(t.requires_grad for t in inputs)
        )
        if record:
            inputs = _promote_sequence(inputs)
        return inputs, (inputs,) + args[1:], record
    arity = definition.inputs
    inputs = tuple(_operand(t) for t in args[:arity])
    for t in inputs:
        if type(t) is Tensor and t._base is not None:
            _refresh_if_stale(t)
    record = (
        grad_mode.enabled
        and definition.differentiable
        and any(type(t) is Tensor and t.requires_grad for t in inputs)
    )
    if record and definition.broadcast:
        inputs = _bring_to_one_shape(definition.name, inputs)
    return inputs, inputs + args[arity:], record


_recording_inputs = False


def record_inputs(on: bool) -> bool:
    """Keep each node's inputs, for gradcheck's search for a faulty rule; returns the old value."""
    global _recording_inputs
    previous, _recording_inputs = _recording_inputs, on
    return previous


def _bring_pair_to_one_shape(op_name: str, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """`_bring_to_one_shape` for the common two-tensor case, written out for speed."""
    x_data, y_data = x.data, y.data
    shape = x_data.shape
    if y_data.shape != shape:
        shape = broadcast.broadcast_shapes(op_name, shape, y_data.shape)
    dtype = x_data.dtype
    if y_data.dtype != dtype:
        dtype = np.result_type(x_data, y_data)
    if x.requires_grad and (x_data.shape != shape or x_data.dtype != dtype):
        x = broadcast.expand_as_needed(x, shape, dtype)
    if y.requires_grad and (y_data.shape != shape or y_data.dtype != dtype):
        y = broadcast.expand_as_needed(y, shape, dtype)
    return x, y


def _bring_to_one_shape(op_name: str, inputs: tuple) -> tuple:
    """Broadcast and cast, by recorded ops, each operand that needs a gradient."""
    shapes = [t.data.shape if type(t) is Tensor else () for t in inputs]
    out_shape = shapes[0]
    for other in shapes[1:]:
        if other != out_shape:
            out_shape = broadcast.broadcast_shapes(op_name, *shapes)
            break
    dtypes = {t.data.dtype for t in inputs if type(t) is Tensor}
    dtype = (
        dtypes.pop()
        if len(dtypes) == 1
        else np.result_type(*(t.data if type(t) is Tensor else t for t in inputs))
    )
    return tuple(
        broadcast.expand_as_needed(t, out_shape, dtype)
        if type(t) is Tensor and t.requires_grad
        else t
        for t in inputs
    )


def _promote_sequence(inputs: tuple) -> tuple:
    dtype = np.result_type(*(t.data.dtype for t in inputs))
    return tuple(broadcast.to(t, dtype) if t.data.dtype != dtype else t for t in inputs)


def _raise_if_unbroadcastable(op_name: str, inputs: tuple) -> None:
    shapes = [np.shape(t.data if type(t) is Tensor else t) for t in inputs]
    broadcast.broadcast_shapes(op_name, *shapes)


def _wrap_saved_output(data: np.ndarray, node: Node) -> Tensor:
    """The output a rule sees as `out`: made at backward time, so the graph holds no cycle."""
    return Tensor(data, node)


def _root(t: Tensor) -> Any:
    """The graph position of an output: its node, or the leaf itself."""
    if t._base is not None:
        _refresh_if_stale(t)
    if t.grad_fn is not None:
        return t.grad_fn
    if t.requires_grad:
        return t
    raise RuntimeError(
        f"backward: the tensor of shape {t.shape} does not require grad and has no grad_fn, so "
        "nothing recorded how it was made. Set requires_grad=True on the inputs, and do not "
        "compute it under no_grad()."
    )


def _seed(output: Tensor, gradient: Any, op_name: str) -> Tensor:
    if gradient is None:
        if output.data.size != 1:
            raise RuntimeError(
                f"{op_name}: a gradient can be implied only for a scalar output, but this one "
                f"has shape {output.shape}; pass gradient= (the weight of each output element, "
                "of that shape), or reduce it first, e.g. out.sum().backward()"
            )
        return Tensor(np.ones(output.shape, dtype=output.dtype))
    seed = gradient if type(gradient) is Tensor else as_tensor(gradient)
    if seed.shape != output.shape:
        raise RuntimeError(
            f"{op_name}: gradient has shape {seed.shape} but the output has shape "
            f"{output.shape}; they must match"
        )
    if seed.dtype != output.dtype:
        seed = (
            seed.to(output.dtype) if grad_mode.enabled else Tensor(seed.data.astype(output.dtype))
        )
    return seed


def run_backward(
    output: Tensor,
    gradient: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Sequence[Tensor] | None = None,
) -> None:
    """Accumulate d(output)/d(leaf), weighted by `gradient`, into each leaf's `.grad`
    (only into `inputs`' `.grad` when given)."""
    root = _root(output)
    seed = _seed(output, gradient, "backward")
    if retain_graph is None:
        retain_graph = create_graph
    wanted = None if inputs is None else [inputs] if type(inputs) is Tensor else list(inputs)
    capture = (
        frozenset(id(t.grad_fn) for t in wanted if t.grad_fn is not None) if wanted else _NOTHING
    )
    grads, leaves = backprop(
        [root],
        [seed],
        _wrap_saved_output,
        retain_graph=retain_graph,
        create_graph=create_graph,
        capture=capture,
    )
    stored = {id(seed.data)}
    for target in leaves if wanted is None else wanted:
        grad = grads.get(id(target.grad_fn) if target.grad_fn is not None else id(target))
        if grad is not None:
            _accumulate(target, grad, create_graph, stored)


_NOTHING: frozenset[int] = frozenset()


def _accumulate(leaf: Tensor, grad: Tensor, create_graph: bool, stored: set[int]) -> None:
    """Add `grad` into `leaf.grad`; `stored` holds the arrays this sweep already handed out."""
    if leaf._hooks is not None:
        for hook in list(leaf._hooks.values()):
            replaced = hook(grad)
            if replaced is not None:
                grad = replaced
    if create_graph:
        leaf.grad = grad if leaf.grad is None else leaf.grad + grad
        return
    data = grad.data
    if leaf.grad is None:
        # .grad must be writable and alias nothing else: not the seed, not another leaf's .grad;
        # an array that owns its memory (base None) is writable unless someone froze it
        if data.base is not None or id(data) in stored or not data.flags.writeable:
            data = data.copy()
        stored.add(id(data))
        leaf.grad = Tensor(data)
    else:
        leaf.grad = Tensor(leaf.grad.data + data)


registry.bind_engine(apply, as_tensor, _link_view)

__all__ = ["Tensor", "apply", "as_tensor", "record_inputs", "run_backward"]

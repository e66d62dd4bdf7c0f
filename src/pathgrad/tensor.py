"""Tensor: a thin shell over an ndarray. Every method is one line that calls an op.

The engine around it: `dispatch.apply` runs and records every op, `inplace` records in-place
changes, `backward` is the shell over the reverse sweep that fills `.grad`.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from pathgrad import numpy_protocol, random
from pathgrad.autodiff import grad_mode
from pathgrad.autodiff.backprop import RETAIN_GRAD
from pathgrad.autodiff.node import Node
from pathgrad.ops import (
    broadcast,
    compare,
    elementwise,
    index,
    linalg,
    matrix,
    reduce,
    registry,
    shape,
    special,
)
from pathgrad.ops import reduce as reductions  # `reduce` is also an argument's name
from pathgrad.ops import shape as shape_ops  # `shape` is also a property in the class body
from pathgrad.ops.registry import NUMBER_TYPES
from pathgrad.ops.shape import checked_sizes

DEFAULT_INT = np.dtype(np.int64)
# the dtype Python floats and the float factories take (float32, as PyTorch, until
# set_default_dtype changes it, process-wide) lives in ops/registry.py, where the ops read it
FLOATING_DEFAULTS = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


def get_default_dtype() -> np.dtype:
    """The dtype of Python floats and of zeros, rand, ... without dtype= (float32 at start)."""
    return registry.default_float


def set_default_dtype(dtype: Any) -> None:
    """Make `dtype` (float16, float32 or float64) the default for Python floats and the float
    factories, as torch.set_default_dtype; e.g. pg.set_default_dtype(pg.float64) for
    double-precision work."""
    chosen = np.dtype(dtype)
    if chosen not in FLOATING_DEFAULTS:
        raise TypeError(
            f"set_default_dtype: only float16, float32 and float64 can be the default, not "
            f"{chosen}, as in PyTorch"
        )
    registry.default_float = chosen


class Tensor:
    """An ndarray that records the ops applied to it, so gradients can flow back.

    Make one with `pg.tensor(data, requires_grad=True)`; `.data` is the ndarray itself.
    """

    # .grad and .requires_grad are properties that check what a user assigns, as PyTorch does;
    # the engine and the ops read and write the slots behind them, which costs no call
    __slots__ = ("data", "_grad", "_requires_grad", "grad_fn", "__weakref__", "__dict__")
    # Rarely set, so class defaults rather than per-tensor stores on every op's hot path:
    # hooks, and the view bookkeeping (the tensor whose memory this one views, the view op that
    # made it, the base's version when its grad_fn was made, the count of in-place changes,
    # whether detach() cut it from the graph).
    _hooks = None
    _retains_grad = False
    _base = None
    _view_of = None
    _view_version = 0
    _version_count = 0  # kept on the base: views share it
    _detached = False  # made by detach(): memory shared with its base, graph cut
    _untracked_view_of_grad = False  # a view made under no_grad of a tensor that requires grad
    _recorded_change = 0  # on a base: the version its last recorded in-place change made

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """NumPy's ufuncs on tensors run pathgrad's op for the same maths, so `np.exp(t)` and
        `array * t` are recorded and differentiable; other ufuncs, their methods (reduce, ...)
        and out=/dtype=-style arguments are refused by name rather than computed off the graph."""
        op = numpy_protocol.UFUNC_OPS.get(ufunc) if method == "__call__" and not kwargs else None
        if op is None:
            call = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
            extra = f" with {', '.join(kwargs)}=" if kwargs else ""
            raise TypeError(
                f"np.{call}{extra} on a pathgrad tensor has no pathgrad op to record it; use "
                f"the tensor's own op, or np.{call} on t.detach().numpy() for a plain array"
            )
        return op(*inputs)

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        """`np.sum(t, axis=0)`, `np.concatenate([a, b])`, `np.where(c, a, b)` and other common
        NumPy functions run pathgrad's ops (numpy_protocol.FUNCTION_OPS), so the graph is kept;
        any other NumPy function computes on the arrays and gives an ndarray, as np.asarray."""
        adapter = numpy_protocol.FUNCTION_OPS.get(func)
        result = None if adapter is None else adapter(*args, **kwargs)
        if result is None:
            return func(*_arrays_in(args), **_arrays_in(kwargs))
        return result

    def __init__(self, data: np.ndarray, grad_fn: Node | None = None, requires_grad: bool = False):
        self.data = data
        self._grad = None
        self.grad_fn = grad_fn
        self._requires_grad = requires_grad or grad_fn is not None

    @property
    def grad(self) -> Tensor | None:
        """The gradient backward accumulated here (None until then). Assignable, as in PyTorch,
        with None or a tensor of this one's shape and dtype; anything else is refused at once
        rather than found wrong at the next backward."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            _check_grad(self, value)
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    # numpy interop and Python protocol

    def __array__(self, dtype=None, copy=None):
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        if self._requires_grad:
            # a read-only view: a write through np.asarray(x) would slip past the version
            # check and change a gradient silently (PyTorch refuses .numpy() here outright)
            view = self.data.view()
            view.flags.writeable = False
            return view if dtype is None else view.astype(dtype, copy=False)
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    __hash__ = object.__hash__

    def __reduce_ex__(self, protocol: int):
        # pickle and copy.copy keep the values and requires_grad, not the graph: a non-leaf
        # comes back as a leaf, as in PyTorch (its rule's closure is no state to save)
        return Tensor, (self.data, None, self._requires_grad)

    def __deepcopy__(self, memo: dict) -> Tensor:
        if self.grad_fn is not None:
            raise RuntimeError(
                "deepcopy: only leaf tensors can be deep-copied, as in PyTorch; deep-copy "
                "t.detach() for the values without the graph"
            )
        copied = Tensor(self.data.copy(), None, self._requires_grad)
        memo[id(self)] = copied
        if self._grad is not None:
            copied._grad = self._grad.__deepcopy__(memo)
        return copied

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

    def __format__(self, spec: str) -> str:
        # a 0-d tensor formats as its number (f"{loss:.4f}", f"{loss}"), as PyTorch
        if self.data.ndim == 0:
            return format(self.data.item(), spec)
        return object.__format__(self, spec)

    def __repr__(self) -> str:
        from pathgrad.format import format_tensor

        if self.__dict__.get("_is_parameter"):  # an nn.Parameter, printed as PyTorch prints one
            return "Parameter containing:\n" + format_tensor(self)
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
    def _version(self) -> int:
        """How many in-place changes this tensor's memory has had, counted on its base so that
        views share it (PyTorch's `_version`)."""
        return (self if self._base is None else self._base)._version_count

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

    ndimension = dim

    def numel(self) -> int:
        return int(self.data.size)

    nelement = numel

    def element_size(self) -> int:
        """Bytes per element."""
        return self.data.itemsize

    @property
    def itemsize(self) -> int:
        return self.data.itemsize

    @property
    def nbytes(self) -> int:
        return self.data.nbytes

    def is_floating_point(self) -> bool:
        return self.data.dtype.kind == "f"

    def new_zeros(self, *size, dtype=None, requires_grad=False) -> Tensor:
        """Zeros of `size`, in this tensor's dtype unless `dtype` says otherwise."""
        return self._new(np.zeros, size, dtype, requires_grad, "new_zeros")

    def new_ones(self, *size, dtype=None, requires_grad=False) -> Tensor:
        return self._new(np.ones, size, dtype, requires_grad, "new_ones")

    def new_empty(self, *size, dtype=None, requires_grad=False) -> Tensor:
        return self._new(np.empty, size, dtype, requires_grad, "new_empty")

    def new_full(self, size, fill_value, dtype=None, requires_grad=False) -> Tensor:
        def filled(shape, kind):
            return np.full(shape, fill_value, kind)

        return self._new(filled, (size,), dtype, requires_grad, "new_full")

    def new_tensor(self, data, dtype=None, requires_grad=False) -> Tensor:
        """A copy of `data` in this tensor's dtype unless `dtype` says otherwise."""
        made = Tensor(np.array(as_tensor(data).data, dtype=dtype or self.data.dtype))
        made.requires_grad = requires_grad
        return made

    def _new(self, fill, size, dtype, requires_grad, name) -> Tensor:
        made = Tensor(fill(checked_sizes(size, name), dtype or self.data.dtype))
        made.requires_grad = requires_grad
        return made

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
        detached._detached = True
        return detached

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place: it becomes a leaf that needs no gradient. A
        view of a tensor that needs one is refused, as PyTorch refuses it (use detach())."""
        if self._view_of is not None and self._base._requires_grad:
            raise RuntimeError(
                "detach_: this tensor is a view of one that requires grad, and a view cannot be "
                "detached in place, as in PyTorch; use .detach(), which returns a new tensor"
            )
        self.grad_fn = None
        self._requires_grad = False
        return self

    # in-place changes, recorded so gradients flow through them (see _in_place)

    def add_(self, other, alpha=1):
        step = other if alpha == 1 else other * alpha
        return inplace.in_place(self, "add_", lambda old: old + step)

    def sub_(self, other, alpha=1):
        step = other if alpha == 1 else other * alpha
        return inplace.in_place(self, "sub_", lambda old: old - step)

    def mul_(self, other):
        return inplace.in_place(self, "mul_", lambda old: old * other, keeps_old=True)

    def div_(self, other):
        return inplace.in_place(self, "div_", lambda old: old / other, keeps_old=True)

    def pow_(self, exponent):
        return inplace.in_place(self, "pow_", lambda old: old**exponent, keeps_old=True)

    def clamp_(self, min=None, max=None):
        return inplace.in_place(self, "clamp_", lambda old: elementwise.clamp(old, min, max))

    def relu_(self):
        return inplace.in_place(self, "relu_", elementwise.relu)

    # unary in place: the old value is kept (keeps_old) for rules that read their input; those
    # that read their output keep a private copy of it anyway
    def neg_(self):
        return inplace.in_place(self, "neg_", elementwise.neg)

    def abs_(self):
        return inplace.in_place(self, "abs_", elementwise.abs, keeps_old=True)

    def sqrt_(self):
        return inplace.in_place(self, "sqrt_", elementwise.sqrt)

    def exp_(self):
        return inplace.in_place(self, "exp_", elementwise.exp)

    def log_(self):
        return inplace.in_place(self, "log_", elementwise.log, keeps_old=True)

    def sin_(self):
        return inplace.in_place(self, "sin_", elementwise.sin, keeps_old=True)

    def cos_(self):
        return inplace.in_place(self, "cos_", elementwise.cos, keeps_old=True)

    def tanh_(self):
        return inplace.in_place(self, "tanh_", elementwise.tanh)

    def sigmoid_(self):
        return inplace.in_place(self, "sigmoid_", elementwise.sigmoid)

    def clamp_min_(self, min):
        return self.clamp_(min=min)

    def clamp_max_(self, max):
        return self.clamp_(max=max)

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """Fill with draws from N(mean, std^2), from `generator` or pathgrad's default one."""
        draws = self._draws("normal_", generator, lambda rng, shape: rng.normal(mean, std, shape))
        return inplace.in_place(self, "normal_", lambda old: inplace.everywhere(old, draws))

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        """Fill with draws from U[a, b), from `generator` or pathgrad's default one."""
        draws = self._draws("uniform_", generator, lambda rng, shape: rng.uniform(a, b, shape))
        return inplace.in_place(self, "uniform_", lambda old: inplace.everywhere(old, draws))

    def _draws(self, name, generator, draw):
        if self.data.dtype.kind != "f":
            raise TypeError(f"{name}: draws real numbers, which dtype {self.dtype} cannot hold")
        return draw(random.rng(generator, name), self.data.shape).astype(self.data.dtype)

    def zero_(self):
        return inplace.in_place(self, "zero_", lambda old: inplace.everywhere(old, 0.0))

    def fill_(self, value):
        return inplace.in_place(self, "fill_", lambda old: inplace.everywhere(old, value))

    def copy_(self, src):
        source = as_tensor(src)
        elementwise.check_mask(self, source, "copy_")  # src broadcasts to self, as a mask does
        return inplace.in_place(self, "copy_", lambda old: inplace.everywhere(old, src))

    def masked_fill_(self, mask, value):
        mask = as_tensor(mask)
        elementwise.check_mask(self, mask, "masked_fill_")
        return inplace.in_place(
            self, "masked_fill_", lambda old: elementwise.where(mask, value, old)
        )

    masked_fill = elementwise.masked_fill

    def __setitem__(self, key, value) -> None:
        split = index.torch_order(key, self.data.ndim)
        if split is not None:  # integers first, then arrays, as PyTorch reads the index
            basic, arrays = split
            self[basic][arrays] = value
            return
        positions = index._Normalized(*index.normalize_index(key))
        region = index.region(self.data, positions[0], "setitem")
        if type(value) is Tensor and inplace.same_memory(value.data, region):
            return  # `x[i] *= 2` ends by storing the changed view into itself: nothing to do
        if type(value) not in NUMBER_TYPES:
            value = broadcast.broadcast_to(as_tensor(value), region.shape)
        inplace.in_place(self, "setitem", lambda old: index.index_put(old, value, positions))

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    @property
    def requires_grad(self) -> bool:
        """Whether ops on this tensor are recorded for its gradient. Settable, as in PyTorch,
        on a leaf only and, to True, only where the data is floating."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, requires_grad: bool) -> None:
        self._set_requires_grad(requires_grad, "requires_grad")

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self._set_requires_grad(requires_grad, "requires_grad_")
        return self

    def _set_requires_grad(self, requires_grad: bool, name: str) -> None:
        if type(requires_grad) is not bool:
            raise TypeError(f"{name}: expects True or False, got {requires_grad!r}")
        if requires_grad and self.data.dtype.kind != "f":
            raise RuntimeError(f"{name}: " + _non_float_grad_message(self.data.dtype))
        if self.grad_fn is not None:
            raise RuntimeError(
                f"{name}: only leaf tensors can change requires_grad; use .detach() to make a "
                "new leaf"
            )
        self._requires_grad = requires_grad

    def register_hook(self, hook):
        """Call `hook(grad)` when this tensor's gradient is computed; a tensor it returns
        replaces the gradient. Returns a handle whose `remove()` takes the hook off."""
        if not self._requires_grad:
            raise RuntimeError(
                "register_hook: this tensor does not require grad, so no gradient will reach it"
            )
        hooks = self._hook_table()
        handle = HookHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in `.grad` after backward, as leaves do."""
        if self.grad_fn is None:
            if not self._requires_grad:
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
            if grad_mode.recording.get():  # create_graph: the stored gradient keeps its graph
                tensor._grad = grad if tensor._grad is None else tensor._grad + grad
            else:  # a copy: the sweep may hand the same array to other inputs
                previous = tensor._grad
                tensor._grad = Tensor(
                    grad.data.copy() if previous is None else previous.data + grad.data
                )

        # stored under its own key, which the sweep runs after every other hook, as PyTorch
        self._hook_table()[RETAIN_GRAD] = store

    def _hook_table(self) -> dict:
        """Where this tensor's hooks live: on itself for a leaf, on its node otherwise."""
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = {}
            return self._hooks
        if self.grad_fn.hooks is None:
            self.grad_fn.hooks = {}
        return self.grad_fn.hooks

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's `.grad` (weighted by `gradient`)."""
        backward.run_backward(self, gradient, retain_graph, create_graph, inputs)

    # arithmetic

    __add__ = elementwise.add

    def __radd__(self, other):
        return elementwise.add(other, self)

    __sub__ = elementwise.sub

    def __rsub__(self, other):
        return elementwise.sub(other, self)

    __mul__ = elementwise.mul

    def __rmul__(self, other):
        return elementwise.mul(other, self)

    __truediv__ = elementwise.div

    def __rtruediv__(self, other):
        return elementwise.div(other, self)

    __floordiv__ = elementwise.floor_divide

    def __rfloordiv__(self, other):
        return elementwise.floor_divide(other, self)

    __mod__ = elementwise.remainder

    def __rmod__(self, other):
        return elementwise.remainder(other, self)

    __pow__ = elementwise.pow

    def __rpow__(self, other):
        return elementwise.pow(other, self)

    __matmul__ = linalg.matmul

    def __rmatmul__(self, other):
        return linalg.matmul(other, self)

    __neg__ = elementwise.neg

    def __pos__(self):
        return self

    __abs__ = elementwise.abs

    def __eq__(self, other):  # type: ignore[override]
        if not _comparable(other):
            return NotImplemented  # Python then compares identity: t == None is False
        return compare.eq(self, other)

    def __ne__(self, other):  # type: ignore[override]
        if not _comparable(other):
            return NotImplemented
        return compare.ne(self, other)

    __lt__ = compare.lt

    __le__ = compare.le

    __gt__ = compare.gt

    __ge__ = compare.ge

    __and__ = compare.bitwise_and

    def __rand__(self, other):
        return compare.bitwise_and(other, self)

    __or__ = compare.bitwise_or

    def __ror__(self, other):
        return compare.bitwise_or(other, self)

    __xor__ = compare.bitwise_xor

    def __rxor__(self, other):
        return compare.bitwise_xor(other, self)

    __invert__ = compare.bitwise_not

    __lshift__ = compare.bitwise_left_shift

    def __rlshift__(self, other):
        return compare.bitwise_left_shift(other, self)

    __rshift__ = compare.bitwise_right_shift

    def __rrshift__(self, other):
        return compare.bitwise_right_shift(other, self)

    bitwise_and = compare.bitwise_and

    bitwise_or = compare.bitwise_or

    bitwise_xor = compare.bitwise_xor

    bitwise_not = compare.bitwise_not

    bitwise_left_shift = compare.bitwise_left_shift

    bitwise_right_shift = compare.bitwise_right_shift

    logical_and = compare.logical_and

    logical_or = compare.logical_or

    logical_xor = compare.logical_xor

    logical_not = compare.logical_not

    __getitem__ = index.getitem

    def add(self, other, *, alpha=1):
        return elementwise.add(self, other if alpha == 1 else other * alpha)

    def sub(self, other, *, alpha=1):
        return elementwise.sub(self, other if alpha == 1 else other * alpha)

    subtract = sub

    def mul(self, other):
        return elementwise.mul(self, other)

    multiply = mul

    def div(self, other, *, rounding_mode=None):
        return elementwise.divide(self, other, rounding_mode=rounding_mode)

    divide = div

    def true_divide(self, other):
        return elementwise.div(self, other)

    def remainder(self, other):
        return elementwise.remainder(self, other)

    def floor_divide(self, other):
        return elementwise.floor_divide(self, other)

    def pow(self, exponent):
        return elementwise.pow(self, exponent)

    def matmul(self, other):
        return linalg.matmul(self, other)

    def mm(self, other):
        return linalg.mm(self, other)

    def bmm(self, other):
        return linalg.bmm(self, other)

    t = linalg.t

    neg = negative = elementwise.neg

    def positive(self):
        return self

    abs = absolute = elementwise.abs

    def sgn(self):
        return elementwise.sign(self)

    exp = elementwise.exp

    log = elementwise.log

    log1p = elementwise.log1p

    log2 = elementwise.log2

    log10 = elementwise.log10

    expm1 = elementwise.expm1

    tan = elementwise.tan

    reciprocal = elementwise.reciprocal

    cumsum = reduce.cumsum

    sort = reduce.sort

    argsort = reduce.argsort

    topk = reduce.topk

    tril = shape_ops.tril

    diagonal = shape_ops.diagonal

    unfold = shape_ops.unfold

    def diag(self, diagonal=0):
        return shape_ops.diag(self, diagonal)

    def trace(self):
        return shape_ops.trace(self)

    triu = shape_ops.triu

    roll = shape_ops.roll

    sqrt = elementwise.sqrt

    sin = elementwise.sin

    cos = elementwise.cos

    tanh = elementwise.tanh

    sigmoid = elementwise.sigmoid

    relu = elementwise.relu

    erf = elementwise.erf

    erfc = elementwise.erfc

    erfinv = special.erfinv

    lgamma = special.lgamma

    digamma = special.digamma

    def polygamma(self, n):
        return special.polygamma(n, self)

    asin = arcsin = elementwise.asin

    acos = arccos = elementwise.acos

    atan = arctan = elementwise.atan

    atan2 = arctan2 = elementwise.atan2

    sinh = elementwise.sinh

    cosh = elementwise.cosh

    asinh = arcsinh = elementwise.asinh

    acosh = arccosh = elementwise.acosh

    atanh = arctanh = elementwise.atanh

    floor = elementwise.floor

    ceil = elementwise.ceil

    trunc = fix = elementwise.trunc

    round = elementwise.round

    frac = elementwise.frac

    fmod = elementwise.fmod

    hypot = elementwise.hypot

    logaddexp = elementwise.logaddexp

    logaddexp2 = elementwise.logaddexp2

    xlogy = elementwise.xlogy

    fmax = elementwise.fmax

    fmin = elementwise.fmin

    nan_to_num = elementwise.nan_to_num

    exp2 = elementwise.exp2

    logit = elementwise.logit

    lerp = elementwise.lerp

    deg2rad = elementwise.deg2rad

    rad2deg = elementwise.rad2deg

    float_power = elementwise.float_power

    isinf = compare.isinf

    isposinf = compare.isposinf

    isneginf = compare.isneginf

    signbit = compare.signbit

    heaviside = compare.heaviside

    clamp = elementwise.clamp

    clip = clamp

    def clamp_min(self, min):
        return elementwise.clamp(self, min, None)

    def clamp_max(self, max):
        return elementwise.clamp(self, None, max)

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

    not_equal = ne

    less = lt

    less_equal = le

    greater = gt

    greater_equal = ge

    # reductions

    sum = reduce.sum

    mean = reduce.mean

    var = reduce.var

    std = reduce.std

    max = reduce.max

    min = reduce.min

    amax = reduce.amax

    amin = reduce.amin

    argmax = reduce.argmax

    argmin = reduce.argmin

    prod = reduce.prod

    logsumexp = reduce.logsumexp

    norm = reduce.norm

    softmax = reduce.softmax

    log_softmax = reduce.log_softmax

    def all(self, dim=None, keepdim=False):
        return compare.all_true(self, dim, keepdim)

    def any(self, dim=None, keepdim=False):
        return compare.any_true(self, dim, keepdim)

    # shape

    def reshape(self, *shape_):
        return shape.reshape(self, *shape_)

    view = shape_ops.view

    def contiguous(self) -> Tensor:
        """This tensor if its memory is in row-major order, else a row-major copy (in the graph)."""
        return self if self.data.flags.c_contiguous else elementwise.clone(self)

    def is_contiguous(self) -> bool:
        return bool(self.data.flags.c_contiguous)

    transpose = shape_ops.transpose

    swapaxes = swapdims = shape_ops.transpose

    def permute(self, *dims):
        return shape.permute(self, *dims)

    squeeze = shape_ops.squeeze

    unsqueeze = shape_ops.unsqueeze

    def expand(self, *sizes):
        return shape.expand(self, *sizes)

    def expand_as(self, other):
        return broadcast.broadcast_to(self, other.shape)

    def view_as(self, other):
        return shape_ops.view(self, other.shape)

    def reshape_as(self, other):
        return shape.reshape(self, other.shape)

    def movedim(self, source, destination):
        return shape_ops.movedim(self, source, destination)

    moveaxis = movedim

    ravel = shape_ops.ravel

    def select(self, dim, index_):
        return shape_ops.select(self, dim, index_)

    def unbind(self, dim=0):
        return shape_ops.unbind(self, dim)

    def broadcast_to(self, shape_):
        return broadcast.broadcast_to(self, shape_)

    flatten = shape_ops.flatten

    def flip(self, *dims):
        return shape_ops.flip(self, dims[0] if len(dims) == 1 else dims)  # flip(0, 1) too

    def repeat(self, *sizes):
        return shape.repeat(self, *sizes)

    def dot(self, other):
        return linalg.dot(self, other)

    def outer(self, other):
        return linalg.outer(self, other)

    def where(self, condition, other):
        """`pg.where(condition, self, other)`, as PyTorch's Tensor.where."""
        return elementwise.where(condition, self, other)

    def square(self):
        return elementwise.square(self)

    def rsqrt(self):
        return elementwise.rsqrt(self)

    def sign(self):
        return elementwise.sign(self)

    def isnan(self):
        return compare.isnan(self)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return compare.isclose(self, other, rtol, atol, equal_nan)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
        return compare.allclose(self, other, rtol, atol, equal_nan)

    def equal(self, other) -> bool:
        return compare.equal(self, other)

    def isfinite(self):
        return compare.isfinite(self)

    def narrow(self, dim, start, length):
        return shape.narrow(self, dim, start, length)

    split = shape_ops.split

    chunk = shape_ops.chunk

    def gather(self, dim, index_):
        return index.gather(self, dim, index_)

    def index_select(self, dim, index_):
        return index.index_select(self, dim, index_)

    def scatter(self, dim, index_, src=None, *, value=None, reduce=None):
        return index.scatter(self, dim, index_, src, value=value, reduce=reduce)

    def scatter_(self, dim, index_, src=None, *, value=None, reduce=None):
        return inplace.in_place(
            self,
            "scatter_",
            lambda old: index.scatter(old, dim, index_, src, value=value, reduce=reduce),
        )

    def scatter_add(self, dim, index_, src):
        return index.scatter_add(self, dim, index_, src)

    def scatter_add_(self, dim, index_, src):
        return inplace.in_place(
            self, "scatter_add_", lambda old: index.scatter_add(old, dim, index_, src)
        )

    # `reduce` is PyTorch's name for the argument, so the module goes by another here
    def scatter_reduce(self, dim, index_, src, reduce, *, include_self=True):
        return reductions.scatter_reduce(self, dim, index_, src, reduce, include_self=include_self)

    def scatter_reduce_(self, dim, index_, src, reduce, *, include_self=True):
        return inplace.in_place(
            self,
            "scatter_reduce_",
            lambda old: reductions.scatter_reduce(
                old, dim, index_, src, reduce, include_self=include_self
            ),
        )

    def index_reduce(self, dim, index_, source, reduce, *, include_self=True):
        return reductions.index_reduce(self, dim, index_, source, reduce, include_self=include_self)

    def index_reduce_(self, dim, index_, source, reduce, *, include_self=True):
        return inplace.in_place(
            self,
            "index_reduce_",
            lambda old: reductions.index_reduce(
                old, dim, index_, source, reduce, include_self=include_self
            ),
        )

    def index_add(self, dim, index_, source, alpha=1):
        return index.index_add(self, dim, index_, source, alpha=alpha)

    def index_add_(self, dim, index_, source, alpha=1):
        return inplace.in_place(
            self, "index_add_", lambda old: index.index_add(old, dim, index_, source, alpha=alpha)
        )

    # by name in PyTorch, composed of the ops above

    def tile(self, *dims):
        return shape_ops.tile(self, dims[0] if len(dims) == 1 else dims)

    def unflatten(self, dim, sizes):
        return shape_ops.unflatten(self, dim, sizes)

    fliplr = shape_ops.fliplr

    flipud = shape_ops.flipud

    def rot90(self, k=1, dims=(0, 1)):
        return shape_ops.rot90(self, k, dims)

    def tensor_split(self, indices_or_sections, dim=0):
        return shape_ops.tensor_split(self, indices_or_sections, dim)

    hsplit = shape_ops.hsplit

    vsplit = shape_ops.vsplit

    dsplit = shape_ops.dsplit

    def diag_embed(self, offset=0, dim1=-2, dim2=-1):
        return shape_ops.diag_embed(self, offset, dim1, dim2)

    def diagflat(self, offset=0):
        return shape_ops.diagflat(self, offset)

    def diff(self, n=1, dim=-1, prepend=None, append=None):
        return shape_ops.diff(self, n, dim, prepend, append)

    def take(self, index_):
        return index.take(self, index_)

    def take_along_dim(self, indices, dim=None):
        return index.take_along_dim(self, indices, dim)

    def masked_select(self, mask):
        return index.masked_select(self, mask)

    def nonzero(self, *, as_tuple=False):
        return index.nonzero(self, as_tuple=as_tuple)

    def argwhere(self):
        return index.nonzero(self)

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        return index.repeat_interleave(self, repeats, dim, output_size=output_size)

    def index_fill(self, dim, index_, value):
        return index.index_fill(self, dim, index_, value)

    def index_fill_(self, dim, index_, value):
        return inplace.in_place(
            self, "index_fill_", lambda old: index.index_fill(old, dim, index_, value)
        )

    def index_copy(self, dim, index_, source):
        return index.index_copy(self, dim, index_, source)

    def index_copy_(self, dim, index_, source):
        return inplace.in_place(
            self, "index_copy_", lambda old: index.index_copy(old, dim, index_, source)
        )

    def mv(self, vec):
        return linalg.mv(self, vec)

    def vdot(self, other):
        return linalg.vdot(self, other)

    def inner(self, other):
        return linalg.inner(self, other)

    def kron(self, other):
        return linalg.kron(self, other)

    def cross(self, other, dim=None):
        return linalg.cross(self, other, dim)

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        return linalg.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def addmv(self, mat, vec, *, beta=1, alpha=1):
        return linalg.addmv(self, mat, vec, beta=beta, alpha=alpha)

    def addr(self, vec1, vec2, *, beta=1, alpha=1):
        return linalg.addr(self, vec1, vec2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return linalg.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def addbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return linalg.addbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def matrix_power(self, n):
        return linalg.matrix_power(self, n)

    def sinc(self):
        return elementwise.sinc(self)

    def copysign(self, other):
        return elementwise.copysign(self, other)

    def ldexp(self, other):
        return elementwise.ldexp(self, other)

    def frexp(self):
        return elementwise.frexp(self)

    def gcd(self, other):
        return compare.gcd(self, other)

    def lcm(self, other):
        return compare.lcm(self, other)

    def nextafter(self, other):
        return compare.nextafter(self, other)

    def isreal(self):
        return compare.isreal(self)

    def renorm(self, p, dim, maxnorm):
        return reductions.renorm(self, p, dim, maxnorm)

    def mode(self, dim=-1, keepdim=False):
        return reductions.mode(self, dim, keepdim)

    def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
        return reductions.unique_consecutive(self, return_inverse, return_counts, dim)

    def index_put(self, indices, values, accumulate=False):
        return index.index_put_values(self, indices, values, accumulate)

    def index_put_(self, indices, values, accumulate=False):
        return inplace.in_place(
            self,
            "index_put_",
            lambda old: index.index_put_values(old, indices, values, accumulate),
        )

    def select_scatter(self, src, dim, index_):
        return index.select_scatter(self, src, dim, index_)

    def slice_scatter(self, src, dim=0, start=None, end=None, step=1):
        return index.slice_scatter(self, src, dim, start, end, step)

    def resolve_conj(self):
        return self  # real tensors only: nothing to resolve

    resolve_neg = resolve_conj

    def bincount(self, weights=None, minlength=0):
        return reduce.bincount(self, weights, minlength)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        return reduce.unique(self, sorted, return_inverse, return_counts, dim)

    def cov(self, *, correction=1, fweights=None, aweights=None):
        return reduce.cov(self, correction=correction, fweights=fweights, aweights=aweights)

    def corrcoef(self):
        return reduce.corrcoef(self)

    def dist(self, other, p=2.0):
        return linalg.dist(self, other, p)

    msort = reduce.msort

    def pinverse(self):
        return matrix.pinv(self)

    def det(self):
        return matrix.det(self)

    def inverse(self):
        return matrix.inv(self)

    def matrix_exp(self):
        return matrix.matrix_exp(self)

    def logdet(self):
        return matrix.logdet(self)

    def slogdet(self):
        return matrix.slogdet(self)

    def cholesky(self, upper=False):
        return matrix.cholesky(self, upper=upper)

    def addcmul(self, tensor1, tensor2, *, value=1):
        return elementwise.addcmul(self, tensor1, tensor2, value=value)

    def addcmul_(self, tensor1, tensor2, *, value=1):
        return inplace.in_place(
            self, "addcmul_", lambda old: elementwise.addcmul(old, tensor1, tensor2, value=value)
        )

    def addcdiv(self, tensor1, tensor2, *, value=1):
        return elementwise.addcdiv(self, tensor1, tensor2, value=value)

    def addcdiv_(self, tensor1, tensor2, *, value=1):
        return inplace.in_place(
            self, "addcdiv_", lambda old: elementwise.addcdiv(old, tensor1, tensor2, value=value)
        )

    def nansum(self, dim=None, keepdim=False):
        return reduce.nansum(self, dim, keepdim)

    def nanmean(self, dim=None, keepdim=False):
        return reduce.nanmean(self, dim, keepdim)

    def aminmax(self, *, dim=None, keepdim=False):
        return reduce.aminmax(self, dim=dim, keepdim=keepdim)

    def count_nonzero(self, dim=None):
        return reduce.count_nonzero(self, dim)

    cumprod = reduce.cumprod

    def logcumsumexp(self, dim):
        return reduce.logcumsumexp(self, dim)

    def cummax(self, dim):
        return reduce.cummax(self, dim)

    def cummin(self, dim):
        return reduce.cummin(self, dim)

    def kthvalue(self, k, dim=-1, keepdim=False):
        return reduce.kthvalue(self, k, dim, keepdim)

    def median(self, dim=None, keepdim=False):
        return reduce.median(self, dim, keepdim)

    def quantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return reduce.quantile(self, q, dim, keepdim, interpolation=interpolation)

    def nanquantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return reduce.nanquantile(self, q, dim, keepdim, interpolation=interpolation)

    def nanmedian(self, dim=None, keepdim=False):
        return reduce.nanmedian(self, dim, keepdim)

    def histc(self, bins=100, min=0, max=0):
        return reduce.histc(self, bins, min, max)

    # dtype

    @property
    def device(self) -> str:
        """Always "cpu": pathgrad computes with NumPy."""
        return CPU

    def cpu(self) -> Tensor:
        return self

    is_cuda = False  # PyTorch code asks before moving tensors

    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False) -> Tensor:
        """This tensor in `dtype` (a recorded cast), as PyTorch's `to`, which also takes a device
        ("cpu", the only one here) or another tensor (its dtype), positionally or by name; with
        copy=True a new tensor even where nothing changes."""
        for arg in args:
            if type(arg) is Tensor:
                dtype = arg.dtype
            elif is_device(arg):
                device = arg
            else:
                dtype = arg
        check_device(device, "to")
        if dtype is None or np.dtype(dtype) == self.data.dtype:
            return elementwise.clone(self) if copy else self
        return broadcast.to(self, np.dtype(dtype))

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def half(self):
        return self.to(np.float16)

    def long(self):
        return self.to(np.int64)

    def int(self):
        return self.to(np.int32)

    def bool(self):
        return self.to(np.bool_)

    def type_as(self, other):
        return self.to(other.dtype)

    # last in the class body: the builtin `type` is shadowed below this line there
    def type(self, dtype=None, non_blocking=False):
        """With no argument, the tensor type's name as PyTorch spells it ("pathgrad.FloatTensor");
        with a dtype, or a name such as "torch.DoubleTensor", this tensor in it, as `to`."""
        if dtype is None:
            dtype = self.data.dtype
            return f"pathgrad.{TYPE_NAMES.get(dtype) or dtype.name.capitalize() + 'Tensor'}"
        if isinstance(dtype, str) and dtype.rpartition(".")[2] in DTYPES_OF_NAMES:
            dtype = DTYPES_OF_NAMES[dtype.rpartition(".")[2]]
        return self.to(dtype)


# PyTorch's legacy tensor-type names, which .type() gives and takes
TYPE_NAMES = {
    np.dtype(dtype): name
    for dtype, name in [
        (np.float32, "FloatTensor"),
        (np.float64, "DoubleTensor"),
        (np.float16, "HalfTensor"),
        (np.int64, "LongTensor"),
        (np.int32, "IntTensor"),
        (np.int16, "ShortTensor"),
        (np.int8, "CharTensor"),
        (np.uint8, "ByteTensor"),
        (np.bool_, "BoolTensor"),
    ]
}
DTYPES_OF_NAMES = {name: dtype for dtype, name in TYPE_NAMES.items()}

CPU = "cpu"
DEVICE_NAMES = ("cpu", "cuda", "mps", "xpu", "meta")


def is_device(x: Any) -> bool:
    """A device as PyTorch code passes one: "cpu", "cuda:0", or a torch.device."""
    if type(x).__name__ == "device":
        return True
    return isinstance(x, str) and x.split(":")[0] in DEVICE_NAMES


def check_device(device: Any, op_name: str) -> None:
    """PyTorch code passes devices everywhere; the CPU (or none) is what pathgrad has."""
    if device is None or str(device).split(":")[0] == CPU:
        return
    raise RuntimeError(
        f"{op_name}: device {str(device)!r}: pathgrad computes with NumPy on the CPU only; pass "
        "'cpu' or leave the device out"
    )


class HookHandle:
    """Returned by `register_hook`; `remove()` takes the hook off."""

    _next_id = 0

    def __init__(self, hooks: dict) -> None:
        HookHandle._next_id += 1
        self.id = HookHandle._next_id
        self._hooks = hooks

    def remove(self) -> None:
        self._hooks.pop(self.id, None)


def _comparable(other: Any) -> bool:
    """What == compares element by element: tensors, numbers, arrays and lists of numbers. For
    anything else (None, a string, an object) == is False, as PyTorch, so `None in tensors`
    and a list's .index() work."""
    return isinstance(other, (Tensor, np.ndarray, np.generic, list, tuple, *NUMBER_TYPES))


def _check_grad(t: Tensor, grad: Any) -> None:
    """What PyTorch refuses as a .grad: not a tensor, the tensor itself, another shape or dtype."""
    if type(grad) is not Tensor:
        raise TypeError(f".grad: expected a tensor or None, got {type(grad).__name__}")
    if grad is t:
        raise RuntimeError(".grad: a tensor cannot be its own gradient")
    if grad.data.shape != t.data.shape or grad.data.dtype != t.data.dtype:
        raise RuntimeError(
            f".grad: a gradient of shape {grad.shape} and dtype {grad.dtype} cannot be assigned "
            f"to a tensor of shape {t.shape} and dtype {t.dtype}; they must match"
        )


def _non_float_grad_message(dtype: np.dtype) -> str:
    return (
        f"only floating-point tensors can require gradients, got dtype {dtype}; make the data "
        "floating, e.g. pg.tensor(data, dtype=pg.float32, requires_grad=True)"
    )


def is_tensor(x: Any) -> bool:
    """Whether x is a pathgrad tensor."""
    return type(x) is Tensor


def is_floating_point(x: Tensor) -> bool:
    return x.is_floating_point()


def numel(x: Any) -> int:
    return as_tensor(x).numel()


def plain_tensor(data: np.ndarray) -> Tensor:
    """Tensor(data), a constant, made without calling __init__: a class call costs a trip
    through C, on each gradient the engine hands out."""
    t = _new_tensor(Tensor)
    t.data = data
    t._grad = None
    t.grad_fn = None
    t._requires_grad = False
    return t


_new_tensor = object.__new__


def as_tensor(x: Any, dtype: Any = None) -> Tensor:
    """A tensor sharing `x`'s memory where it can: tensors pass through, ndarrays keep their
    dtype, Python floats and lists of them become float32 and ints int64, as PyTorch."""
    if type(x) is Tensor:
        return x if dtype is None else x.to(dtype)
    if isinstance(x, np.ndarray):
        _check_kind(x, "ndarray")
        data = x if dtype is None else _cast(x, dtype)
    elif isinstance(x, np.generic):
        data = _cast(np.asarray(x), dtype) if dtype is not None else np.asarray(x)
        _check_kind(data, type(x).__name__)
    else:
        data = _from_python(x, dtype)
    return Tensor(data)


def _from_python(x: Any, dtype: Any) -> np.ndarray:
    typed = None
    if isinstance(x, (list, tuple)):
        kinds = {type(item) for item in _flat(x)}
        if any(kind is Tensor or issubclass(kind, np.generic) for kind in kinds):
            typed = _list_dtype(x)
            x = _arrays_in(x) if Tensor in kinds else x
    data = np.asarray(x)
    _check_kind(data, type(x).__name__)
    if dtype is not None:
        return _cast(data, dtype)
    if typed is not None:
        return _cast(data, typed)
    if data.dtype.kind == "f":
        return data.astype(registry.default_float)
    if data.dtype.kind in "iu":
        return _cast(data, DEFAULT_INT)
    return data


def _list_dtype(items: Any) -> np.dtype:
    """PyTorch's dtype for a list holding NumPy scalars or tensors: each element's own dtype
    (a Python float counts as the default float dtype, an int as int64), then the widest
    floating dtype if any is floating, else the widest integer, else bool. NumPy's promotion
    differs (int32 with float32 is float64 there, float32 in PyTorch)."""
    dtypes = set()
    for item in _flat(items):
        if type(item) is Tensor:
            dtypes.add(item.data.dtype)
        elif isinstance(item, np.generic):
            dtypes.add(item.dtype)
        elif isinstance(item, bool):
            dtypes.add(np.dtype(np.bool_))
        elif isinstance(item, int):
            dtypes.add(DEFAULT_INT)
        elif isinstance(item, float):
            dtypes.add(registry.default_float)
    for kinds in ("f", "iu", "b"):
        widest = [d for d in dtypes if d.kind in kinds]
        if widest:
            return np.result_type(*widest)
    return registry.default_float  # nothing typed: an odd element, which _check_kind refuses


def _check_kind(data: np.ndarray, source: str) -> None:
    """Numbers only: NumPy also makes arrays of objects, strings, dates and complex numbers."""
    if data.dtype.kind == "O":  # as PyTorch: "Could not infer dtype of object"
        raise RuntimeError(f"tensor: cannot make a tensor from {source} data (object)")
    if data.dtype.kind not in "fiub":
        raise TypeError(f"tensor: cannot make a tensor from {source} data ({data.dtype})")


def _cast(data: np.ndarray, dtype: Any, name: str = "tensor") -> np.ndarray:
    """`data` as `dtype`, refusing what PyTorch refuses rather than wrapping round: NaN,
    infinities and integers or floats out of the integer dtype's range (`name` the caller)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iu" and data.dtype.kind in "fiu" and data.size and data.dtype != dtype:
        info = np.iinfo(dtype)
        low, high = data.min(), data.max()
        if data.dtype.kind == "f" and not np.isfinite(data).all():
            raise ValueError(f"{name}: NaN or an infinity cannot be converted to {dtype}")
        if low < info.min or high > info.max:
            bad = low if low < info.min else high
            raise OverflowError(f"{name}: {bad} does not fit {dtype} ({info.min} to {info.max})")
    return data.astype(dtype, copy=False)


def _flat(items):
    for item in items:
        if isinstance(item, (list, tuple)):
            yield from _flat(item)
        else:
            yield item


def _arrays_in(value: Any) -> Any:
    """`value` with every tensor in it (in lists, tuples and dicts too) as its ndarray."""
    if type(value) is Tensor:
        return value.data
    if isinstance(value, (list, tuple)):
        items = [_arrays_in(item) for item in value]
        # a named tuple (max's values and indices) takes its fields one by one
        return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
    if isinstance(value, dict):
        return {key: _arrays_in(item) for key, item in value.items()}
    return value


# The engine's modules make tensors, so they import this one; they load here, once Tensor exists,
# and are used through their modules (names are looked up when a method runs).
from pathgrad import backward, inplace  # noqa: E402

__all__ = [
    "DEFAULT_INT",
    "HookHandle",
    "Tensor",
    "as_tensor",
    "get_default_dtype",
    "is_floating_point",
    "is_tensor",
    "numel",
    "set_default_dtype",
]

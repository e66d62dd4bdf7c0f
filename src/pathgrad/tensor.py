"""Tensor: a thin shell over an ndarray. Every method is one line that calls an op.

The engine around it: `dispatch.apply` runs and records every op, `inplace` records in-place
changes, `backward` is the shell over the reverse sweep that fills `.grad`.
"""

from __future__ import annotations

import math
import weakref
from typing import Any

import numpy as np

from pathgrad import dtypes, numpy_protocol, versions
from pathgrad.autodiff import grad_mode
from pathgrad.autodiff.backprop import RETAIN_GRAD
from pathgrad.autodiff.node import Node
from pathgrad.errors import user_site
from pathgrad.ops import (
    broadcast,
    elementwise,
    registry,
    shape,
)
from pathgrad.ops.shape import checked_sizes


class Size(tuple):
    """A shape, as PyTorch's `torch.Size`: a tuple (equal to one, and hashed as one) with
    `numel()`, whose slices and sums are Sizes too."""

    __slots__ = ()

    def numel(self) -> int:
        return math.prod(self)

    def __getitem__(self, key: Any) -> Any:
        item = tuple.__getitem__(self, key)
        return _new_size(Size, item) if type(key) is slice else item

    def __add__(self, other: Any) -> Any:
        if not isinstance(other, tuple):
            return NotImplemented
        return _new_size(Size, tuple.__add__(self, other))

    def __radd__(self, other: Any) -> Any:
        if not isinstance(other, tuple):
            return NotImplemented
        return _new_size(Size, tuple.__add__(other, self))

    def __repr__(self) -> str:
        return f"pathgrad.Size({list(self)})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        # in f-strings a tuple, as pathgrad's error messages write shapes ("of shape (2, 3)")
        return format(tuple(self), spec)


_new_size = tuple.__new__
_dtype_of = dtypes.of

DEFAULT_INT = np.dtype(np.int64)
# the dtype Python floats and the float factories take (float32, as PyTorch, until
# set_default_dtype changes it, process-wide) lives in ops/registry.py, where the ops read it
FLOATING_DEFAULTS = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


def get_default_dtype() -> dtypes.dtype:
    """The dtype of Python floats and of zeros, rand, ... without dtype= (float32 at start)."""
    return dtypes.of(registry.default_float)


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

    Make one with `pg.tensor(data, requires_grad=True)`. The ndarray is `_data` (`.numpy()`
    outside the package); `.data` is PyTorch's: the values as a tensor outside the graph.
    """

    # .grad and .requires_grad are properties that check what a user assigns, as PyTorch does;
    # the engine and the ops read and write the attributes behind them, which costs no call
    __slots__ = ("_data", "_requires_grad", "grad_fn", "__weakref__", "__dict__")
    # Rarely set, so class defaults rather than per-tensor stores on every op's hot path: the
    # gradient (only leaves get one), hooks, and the view bookkeeping (the tensor whose memory
    # this one views, the view op that made it, the base's version when its grad_fn was made,
    # the count of in-place changes, whether detach() cut it from the graph).
    _grad = None
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

    def __init__(self, *args: Any, device: Any = None) -> None:
        """PyTorch's legacy constructor: `Tensor(data)` (a sequence or an ndarray, as the
        default float dtype; a tensor's alias) or `Tensor(*sizes)` / `Tensor(pg.Size(...))`
        (zeros, where PyTorch leaves the memory uninitialised). Prefer `pg.tensor(data)`; inside
        pathgrad, tensors are made around an array by `from_array`."""
        check_device(device, "Tensor")
        dtype = registry.default_float
        if len(args) == 1 and type(args[0]) is Tensor:
            self._data = args[0]._data  # an alias, its dtype kept, as PyTorch's
        elif len(args) == 1 and not _is_size(args[0]):
            self._data = np.array(as_tensor(args[0])._data, dtype=dtype)
        else:
            sizes = args[0] if len(args) == 1 and type(args[0]) is Size else args or (0,)
            self._data = np.zeros(checked_sizes(sizes, "Tensor"), dtype=dtype)
        self.grad_fn = None
        self._requires_grad = False

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
            return np.array(self._data, dtype=dtype, copy=True)
        if self._requires_grad:
            # a read-only view: a write through np.asarray(x) would slip past the version
            # check and change a gradient silently (PyTorch refuses .numpy() here outright)
            view = self._data.view()
            view.flags.writeable = False
            return view if dtype is None else view.astype(dtype, copy=False)
        return self._data if dtype is None else self._data.astype(dtype, copy=False)

    __hash__ = object.__hash__

    def __reduce_ex__(self, protocol: int):
        # pickle and copy.copy keep the values and requires_grad, not the graph: a non-leaf
        # comes back as a leaf, as in PyTorch (its rule's closure is no state to save)
        return from_array, (self._data, None, self._requires_grad)

    def __deepcopy__(self, memo: dict) -> Tensor:
        if self.grad_fn is not None:
            raise RuntimeError(
                "deepcopy: only leaf tensors can be deep-copied, as in PyTorch; deep-copy "
                "t.detach() for the values without the graph"
            )
        copied = from_array(self._data.copy(), None, self._requires_grad)
        memo[id(self)] = copied
        if self._grad is not None:
            copied._grad = self._grad.__deepcopy__(memo)
        return copied

    def __len__(self) -> int:
        if not self._data.ndim:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor of shape {self._data.shape} is ambiguous: use "
                ".any() or .all()"
            )
        return bool(self._data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of one element can be used as an index")
        return int(self.item())

    def __format__(self, spec: str) -> str:
        # a 0-d tensor formats as its number (f"{loss:.4f}", f"{loss}"), as PyTorch
        if self._data.ndim == 0:
            return format(self._data.item(), spec)
        return object.__format__(self, spec)

    def __repr__(self) -> str:
        from pathgrad.format import format_tensor

        if self.__dict__.get("_is_parameter"):  # an nn.Parameter, printed as PyTorch prints one
            return "Parameter containing:\n" + format_tensor(self)
        return format_tensor(self)

    # properties

    @property
    def shape(self) -> Size:
        return _new_size(Size, self._data.shape)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> dtypes.dtype:
        return _dtype_of(self._data.dtype)

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
        return shape.permute(self, tuple(range(self._data.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:
        return shape.transpose(self, -2, -1)

    def size(self, dim: int | None = None, *, axis: int | None = None):
        """The shape (a Size), or the size of dim `dim` (`axis=` too, as PyTorch takes it)."""
        if axis is not None:
            if dim is not None:
                raise TypeError("size() got both dim= and axis=; give one")
            dim = axis
        return _new_size(Size, self._data.shape) if dim is None else self._data.shape[dim]

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        """Bytes per element."""
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

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
        made = from_array(np.array(as_tensor(data)._data, dtype=dtype or self._data.dtype))
        made.requires_grad = requires_grad
        return made

    def _new(self, fill, size, dtype, requires_grad, name) -> Tensor:
        made = from_array(fill(checked_sizes(size, name), dtype or self._data.dtype))
        made.requires_grad = requires_grad
        return made

    def numpy(self) -> np.ndarray:
        data = self._data
        if type(data) is not np.ndarray and grad_mode.engine.tracing is not None:
            grad_mode.engine.tracing(".numpy()")  # a traced array: its values would be frozen
        return data

    def item(self):
        if self._data.size != 1:
            raise ValueError(
                f"item: only a tensor of one element converts to a number, this one has shape "
                f"{self._data.shape}"
            )
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def detach(self) -> Tensor:
        """The same data, cut from the graph (it shares the version counter, as PyTorch's)."""
        detached = from_array(self._data)
        detached._base = self._base if self._base is not None else self
        detached._detached = True
        return detached

    @property
    def data(self) -> Tensor:
        """The values as a tensor outside the graph that shares this one's memory, as PyTorch's
        `.data`: `p.data += -lr * p.grad` updates `p` unrecorded. Unlike PyTorch's, it shares the
        version counter too, so a graph that saved `p` refuses a later backward rather than
        compute with the changed values. `.numpy()` gives the ndarray."""
        return self.detach()

    @data.setter
    def data(self, value: Any) -> None:
        """`x.data = t`: x takes t's values, shape and dtype (sharing its memory), as PyTorch's;
        an ndarray is taken too. A graph that saved x notices, by its version counter."""
        if type(value) is Tensor:
            array = value._data
        elif isinstance(value, np.ndarray):
            array = value
        else:
            raise TypeError(
                f"data: assign a tensor (or an ndarray) to .data, not a {type(value).__name__}, "
                "as in PyTorch"
            )
        if array is self._data:
            return  # `p.data += g` stores back the tensor it changed in place
        if self._requires_grad and array.dtype.kind != "f":
            raise RuntimeError(
                f"data: a tensor that requires grad takes floating data only, not {array.dtype}, "
                "as in PyTorch"
            )
        self._data = array
        self._base = self._view_of = None  # its memory is the new array's, not a view's
        versions.record_change(self, "data", user_site())

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
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(f"{name}: " + _non_float_grad_message(self._data.dtype))
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
        if grad_mode.engine.tracing is not None:
            grad_mode.engine.tracing("register_hook")
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
        if grad_mode.engine.tracing is not None:
            grad_mode.engine.tracing("retain_grad")
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
                tensor._grad = from_array(
                    grad._data.copy() if previous is None else previous._data + grad._data
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
        backward.run_backward([self], [gradient], retain_graph, create_graph, inputs)

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
        if dtype is None or np.dtype(dtype) == self._data.dtype:
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

    def short(self):
        return self.to(np.int16)

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
            dtype = self._data.dtype
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


def _check_grad(t: Tensor, grad: Any) -> None:
    """What PyTorch refuses as a .grad: not a tensor, the tensor itself, another shape or dtype."""
    if type(grad) is not Tensor:
        raise TypeError(f".grad: expected a tensor or None, got {type(grad).__name__}")
    if grad is t:
        raise RuntimeError(".grad: a tensor cannot be its own gradient")
    if grad._data.shape != t._data.shape or grad._data.dtype != t._data.dtype:
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


def from_array(
    data: np.ndarray, grad_fn: Node | None = None, requires_grad: bool = False
) -> Tensor:
    """A tensor around `data` (not copied), the result of `grad_fn` where given: how pathgrad
    makes its tensors (`Tensor(...)` is PyTorch's legacy constructor, for users)."""
    t = _new_tensor(Tensor)
    t._data = data
    t.grad_fn = grad_fn
    t._requires_grad = requires_grad or grad_fn is not None
    return t


def _is_size(arg: Any) -> bool:
    """Whether `Tensor(arg)` names a shape: an int or a Size (a plain tuple or list is data)."""
    return isinstance(arg, (int, np.integer, Size)) and not isinstance(arg, bool)


plain_tensor = from_array  # a constant around `data`: each gradient the engine hands out


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
    return from_array(data)


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
            dtypes.add(item._data.dtype)
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
        return value._data
    if isinstance(value, (list, tuple)):
        items = [_arrays_in(item) for item in value]
        # a named tuple (max's values and indices) takes its fields one by one
        return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
    if isinstance(value, dict):
        return {key: _arrays_in(item) for key, item in value.items()}
    return value


# The engine's modules make tensors, so they import this one; they load here, once Tensor exists,
# and are used through their modules (names are looked up when a method runs).
from pathgrad import backward, methods  # noqa: E402

methods.bind(Tensor)

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

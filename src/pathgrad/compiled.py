"""`pg.compile`: run a step once while recording every NumPy call it makes, then replay that
record, a flat plan of NumPy calls, on later calls with the same signature.

Tracing is an eager run. The arrays of the tensors the step can reach (its arguments, its
modules' parameters and buffers, its optimisers' state, the parameters' `.grad`) are swapped
for `Traced` views of the same memory; every NumPy call that touches one (a ufunc, a NumPy
function, an ndarray method, an index) computes as usual and is written down as one step over
numbered slots. Nothing in the engine knows: nodes, versions and the sweep run as ever, and
only the NumPy calls they make end up in the plan. The plan is then pruned (calls whose
results nothing uses), folded (calls on constants become constants), broadcasts before an
elementwise call are left to NumPy, and it is written out as one Python function whose lines
are the NumPy calls, which is what a later call runs.
"""

from __future__ import annotations

import builtins
import functools
import operator
import sys
import types
import warnings
from collections import OrderedDict
from typing import Any, NamedTuple

import numpy as np

from pathgrad import random as pg_random
from pathgrad.autodiff import grad_mode, versions
from pathgrad.nn.module import Module
from pathgrad.optim.optimizer import Optimizer
from pathgrad.tensor import Tensor, from_array

PACKAGE_DIR = __file__.rsplit("/", 1)[0]
NUMPY_DIR = np.__file__.rsplit("/", 1)[0]

# NumPy's own converters, kept: tracing patches np.asarray and kin (see _MAKERS)
_asarray = np.asarray

_active: _Trace | None = None  # the trace being recorded, if any (tracing is one at a time)


class CompileError(RuntimeError):
    """A step that cannot be replayed as a plan: a tensor's value was read into Python."""


# ---------------------------------------------------------------- the traced array


class Traced(np.ndarray):
    """An ndarray that, while a step is traced, writes each NumPy call on it into the plan.
    Outside a trace it computes as a plain ndarray would."""

    slot: int = -1

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        call = ufunc if method == "__call__" else getattr(ufunc, method)
        return _record(call, inputs, kwargs, ufunc_method=method)

    def __array_function__(self, func, types, args, kwargs):
        return _record(func, args, kwargs)

    def __getitem__(self, key):
        return _record(operator.getitem, (self, key), {})

    def __setitem__(self, key, value):
        _record(operator.setitem, (self, key, value), {}, writes=0)

    @property
    def T(self):  # noqa: N802 (NumPy's name)
        return _record(np.ndarray.transpose, (self,), {})

    @property
    def mT(self):  # noqa: N802
        return _record(np.matrix_transpose, (self,), {})

    # a value read into Python: the plan could not replay it
    def __float__(self):
        return _read_value(self, float, "float()")

    def __int__(self):
        return _read_value(self, int, "int()")

    def __bool__(self):
        return _read_value(self, bool, "bool()")

    def __index__(self):
        return _read_value(self, operator.index, "an index")

    def __complex__(self):
        return _read_value(self, complex, "complex()")

    def item(self, *args):
        return _read_value(self, lambda a: np.ndarray.item(a, *args), ".item()")

    def tolist(self):
        return _read_value(self, np.ndarray.tolist, ".tolist()")

    def tobytes(self, order="C"):
        return _read_value(self, lambda a: np.ndarray.tobytes(a, order), ".tobytes()")

    def __repr__(self):
        return repr(np.ndarray.view(self, np.ndarray))

    def __reduce__(self):
        return np.ndarray.view(self, np.ndarray).__reduce__()


# methods that return a value computed from the array (or change it): each is recorded as a
# call of the unbound ndarray method on the slot; None-returning ones change it in place
_RECORDED_METHODS = (
    "all any argmax argmin argpartition argsort astype byteswap choose clip compress conj "
    "conjugate copy cumprod cumsum diagonal dot fill flatten max mean min nonzero partition "
    "prod put ravel repeat reshape round searchsorted sort squeeze std sum swapaxes take trace "
    "transpose var view"
).split()
_IN_PLACE_METHODS = frozenset(("fill", "put", "sort", "partition"))


def _recorded_method(name: str) -> Any:
    unbound = getattr(np.ndarray, name)
    writes = 0 if name in _IN_PLACE_METHODS else None

    def method(self, *args, **kwargs):
        return _record(unbound, (self,) + args, kwargs, writes=writes)

    method.__name__ = name
    return method


for _name in _RECORDED_METHODS:
    setattr(Traced, _name, _recorded_method(_name))


def _unwrap(value: Any) -> Any:
    """`value` with every Traced array as a plain view of it (nested in tuples, lists, dicts)."""
    kind = type(value)
    if kind is Traced:
        return np.ndarray.view(value, np.ndarray)
    if kind is tuple or kind is list:
        return kind(_unwrap(v) for v in value)
    if kind is dict:
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _contains_traced(value: Any) -> bool:
    kind = type(value)
    if kind is Traced:
        return True
    if kind is tuple or kind is list:
        return any(_contains_traced(v) for v in value)
    if kind is dict:
        return any(_contains_traced(v) for v in value.values())
    return False


# ---------------------------------------------------------------- recording


class Slot(NamedTuple):
    """Where a step reads or writes: slot number `n` of the plan."""

    n: int


class Step:
    """One recorded call: `call(*args, **kwargs)` with Slot markers for arrays, its result's
    slots (`out`: a slot, a tuple of them, or None), the slot it writes in place (`writes`),
    and how its result is taken (`as_array`: a NumPy scalar result made a 0-d array)."""

    __slots__ = ("call", "args", "kwargs", "out", "writes", "as_array", "kind", "site")

    def __init__(self, call, args, kwargs, out, writes=None, as_array=False, kind="call"):
        self.call, self.args, self.kwargs, self.out = call, args, kwargs, out
        self.writes, self.as_array, self.kind, self.site = writes, as_array, kind, None


# NumPy functions whose Python-number result says nothing about the values (so not a read)
_METADATA_FUNCTIONS = frozenset(
    (np.shape, np.ndim, np.size, np.result_type, np.can_cast, np.min_scalar_type)
    + (np.shares_memory, np.may_share_memory, np.iscomplexobj, np.isrealobj)
)


def _record(call, args, kwargs, ufunc_method=None, writes=None):
    """Run `call` on plain arrays and, inside a trace, write it into the plan."""
    global _active
    trace = _active
    if trace is None:
        return call(*_unwrap(args), **_unwrap(kwargs))
    _active = None  # the call is one step: what NumPy does inside it is not recorded again
    try:
        result = call(*_unwrap(args), **_unwrap(kwargs))
    finally:
        _active = trace
    return trace.record(call, args, kwargs, result, ufunc_method, writes)


_VALUE_SHAPED = frozenset(
    (np.nonzero, np.flatnonzero, np.argwhere, np.unique, np.compress, np.extract)
    + (np.ndarray.nonzero, np.ndarray.compress, np.ma.nonzero)
)


def _shape_follows_values(call: Any, args: tuple) -> bool:
    """Whether the result's shape depends on the values (a boolean mask's index, nonzero)."""
    if call is operator.getitem:
        key = args[1] if type(args[1]) is tuple else (args[1],)
        return any(isinstance(k, np.ndarray) and k.dtype == bool for k in key)
    return call in _VALUE_SHAPED


def _read_value(array: Traced, convert: Any, what: str) -> Any:
    value = convert(np.ndarray.view(array, np.ndarray))
    trace = _active
    if trace is not None:
        trace.value_read(array, convert, what, value)
    return value


class _Trace:
    """The plan being recorded: its steps, its slots' trace-time arrays, inputs and constants."""

    def __init__(self, name: str, fallback: str | None) -> None:
        self.name, self.fallback = name, fallback
        self.steps: list[Step] = []
        self.arrays: list[Any] = []  # each slot's array as traced (kept alive: ids stay unique)
        self.inputs: dict[int, tuple] = {}  # slot -> (how to read it, tensor)
        self.constants: dict[int, Any] = {}  # slot -> its value
        self.raw_slots: dict[int, int] = {}  # id(raw ndarray) -> its constant slot
        self.by_root: dict[int, list] = {}
        self.raw_kept: list = []
        self.read_only: set = set()  # id of the array owning memory -> slots on it
        self.varying: set[int] = set()  # slots whose value depends on inputs or draws
        self.unreplayable: str | None = None  # why not, where fallback="eager" let it run on

    def new_slot(self, array: Any) -> Traced:
        if not array.flags.writeable:
            self.read_only.add(len(self.arrays))  # NumPy's read-only view: it may be unlocked
        traced = np.ndarray.view(array, Traced)
        traced.slot = len(self.arrays)
        self.arrays.append(traced)
        self.by_root.setdefault(_root(traced), []).append(traced.slot)
        return traced

    def view_of_slot(self, array: np.ndarray) -> int | None:
        """A plain array that views a slot's memory, made where no call could be recorded
        (np.ndarray(buffer=...), as_strided): recorded as the same view of that slot."""
        slots = self.by_root.get(_root(array))
        if not slots:
            return None
        pointer = array.__array_interface__["data"][0]
        for n in reversed(slots):
            source = _unwrap(self.arrays[n])
            if source.__array_interface__["data"][0] != pointer or source.dtype != array.dtype:
                continue
            try:
                same = np.broadcast_to(source, array.shape).strides == array.strides
            except ValueError:
                same = False
            call: Any = np.broadcast_to if same else _strided
            args = (Slot(n), array.shape) if same else (Slot(n), array.shape, array.strides)
            traced = self.new_slot(array)
            self.steps.append(Step(call, args, {}, traced.slot))
            if n in self.varying:
                self.varying.add(traced.slot)
            return traced.slot
        raise CompileError(
            f"pg.compile: {self.name} made a view of shape {array.shape} of an array it "
            "computed in a way the trace cannot follow; compile with fallback='eager'"
        )

    def add_input(self, tensor: Tensor, reader: Any) -> None:
        data = tensor._data
        if type(data) is Traced:
            return
        traced = self.new_slot(data)
        self.inputs[traced.slot] = (reader, tensor, data)
        self.varying.add(traced.slot)
        tensor._data = traced

    def constant(self, array: np.ndarray) -> Traced:
        """A new array made in the step from no input (np.zeros): the same at every replay."""
        traced = self.new_slot(array)
        self.constants[traced.slot] = array.copy()
        self.steps.append(Step(None, (), {}, traced.slot, kind="constant"))
        return traced

    def template(self, value: Any) -> Any:
        """`value` with arrays as Slot markers: a raw ndarray (made outside the trace's view:
        np.zeros, np.arange, a tensor the step does not own) becomes a constant slot."""
        kind = type(value)
        if kind is Traced:
            n = value.slot
            if 0 <= n < len(self.arrays) and self.arrays[n] is value:
                return Slot(n)
            # a view NumPy made without a call this trace saw (np.ndarray(buffer=...)), or an
            # array left from another trace (a constant here)
            raw = np.ndarray.view(value, np.ndarray)
            n = self.view_of_slot(raw)
            if n is None:
                return self.template(raw)
            self.arrays[n] = value
            value.slot = n
            return Slot(value.slot)
        if kind is np.ndarray:
            slot = self.raw_slots.get(id(value))
            if slot is None:
                slot = self.view_of_slot(value)
                if slot is not None:
                    self.raw_slots[id(value)] = slot
                    self.raw_kept.append(value)
                    return Slot(slot)
                traced = self.new_slot(value)
                slot = traced.slot
                self.constants[slot] = value.copy()
                self.raw_slots[id(value)] = slot
                self.raw_kept.append(value)  # alive while traced: its id stays its own
                self.steps.append(Step(None, (), {}, slot, kind="constant"))
            return Slot(slot)
        if kind is tuple or kind is list:
            return kind(self.template(v) for v in value)
        if kind is dict:
            return {k: self.template(v) for k, v in value.items()}
        return value

    def record(self, call, args, kwargs, result, ufunc_method, writes):
        arg_t, kwarg_t = self.template(args), self.template(kwargs)
        slots = _slots_in((arg_t, kwarg_t))
        varying = any(s.n in self.varying for s in slots)
        out_arg = kwargs.get("out") if ufunc_method is not None else None
        if ufunc_method == "at" or (
            result is None and writes is None and args and isinstance(args[0], np.ndarray)
        ):
            writes = 0  # np.add.at, np.put_along_axis, np.copyto: they fill their first argument
        if writes is not None or out_arg is not None:
            if out_arg is not None:
                outs = out_arg if type(out_arg) is tuple else (out_arg,)
                targets = [t.n for t in _slots_in(self.template(outs))]
            else:
                targets = [arg_t[writes].n]
            step = Step(call, arg_t, kwarg_t, None, writes=tuple(targets))
            self.steps.append(step)
            for n in targets:  # every view of the memory written now varies
                self.varying.update(self.by_root.get(_root(self.arrays[n]), (n,)))
            if out_arg is None:
                return result
            # NumPy returns the out= array itself (a tuple of them for several outputs)
            return out_arg if type(out_arg) is tuple and len(out_arg) > 1 else outs[0]
        if isinstance(result, np.ndarray):
            traced = self.new_slot(result)
            out = traced.slot
            wrapped: Any = traced
        elif isinstance(result, np.generic):
            traced = self.new_slot(_asarray(result))
            out = traced.slot
            wrapped = traced
        elif (
            isinstance(result, tuple)
            and result
            and all(isinstance(r, (np.ndarray, np.generic)) for r in result)
        ):
            items = [self.new_slot(_asarray(r)) for r in result]
            out = tuple(t.slot for t in items)
            wrapped = type(result)(*items) if hasattr(result, "_fields") else tuple(items)
        elif result is None or call in _METADATA_FUNCTIONS or not slots:
            return result
        elif isinstance(result, (bool, int, float, complex)):
            # a value computed from the arrays reached Python (np.allclose, np.array_equal)
            self.value_read_result(call, result)
            return result
        else:
            return result
        as_array = isinstance(result, np.generic)
        outs = out if type(out) is tuple else (out,)
        if not varying and isinstance(result, np.ndarray):
            # a view of a constant is made again at every replay: a write through it must
            # reach the constant's copy of that replay
            varying = any(_root(self.arrays[s.n]) == _root(result) for s in slots)
        if varying:
            self.steps.append(Step(call, arg_t, kwarg_t, out, as_array=as_array))
            self.varying.update(outs)
            if _shape_follows_values(call, args):
                # a mask's count, the number of nonzeros: the plan holds for this shape only
                for n in outs:
                    site = _site(_user_frame())
                    shape = self.arrays[n].shape
                    self.steps.append(
                        Step(_guard, (Slot(n), np.shape, shape, site), {}, None, kind="guard")
                    )
        else:  # only constants went in: the result is a constant too (folded)
            for n in outs:
                self.constants[n] = _unwrap(self.arrays[n]).copy()
                self.steps.append(Step(None, (), {}, n, kind="constant"))
        return wrapped

    def draw(self, generator: Any, method: str, args: tuple, kwargs: dict) -> Any:
        """A random draw: made now from the real stream and again at every replay, in order."""
        result = getattr(generator.numpy, method)(*_unwrap(args), **_unwrap(kwargs))
        arg_t, kwarg_t = self.template(args), self.template(kwargs)
        traced = self.new_slot(_asarray(result))
        step = Step(functools.partial(_draw, generator, method), arg_t, kwarg_t, traced.slot)
        step.kind, step.as_array = "draw", not isinstance(result, np.ndarray)
        self.steps.append(step)
        self.varying.add(traced.slot)
        return traced

    def value_read(self, array: Traced, convert: Any, what: str, value: Any) -> None:
        caller = _reading_frame()
        site = _site(caller)
        if caller is not None and not _own_file(caller.f_code.co_filename):
            self._refuse(what, site)
            return
        if caller is not None and caller.f_code.co_filename == _TENSOR_FILE:
            # a Tensor's conversion (float(t) calls t.item()): named as the user wrote it
            frame = caller
            while frame.f_back is not None and frame.f_back.f_code.co_filename == _TENSOR_FILE:
                frame = frame.f_back
            what = _CONVERSIONS.get(frame.f_code.co_name, what)
            self._refuse(what, _site(_user_frame()))
            return
        # pathgrad's own code read a value (a check of an index's range, a loop's length):
        # the plan checks at each replay that it reads the same, and refuses to go on if not
        slot = self.template(array)
        if slot.n not in self.varying:
            return  # a constant's value: always the same
        step = Step(_guard, (slot, convert, value, site), {}, None, kind="guard")
        self.steps.append(step)

    def value_read_result(self, call: Any, value: Any) -> None:
        frame = _user_frame()
        self._refuse(f"{getattr(call, '__name__', call)}()", _site(frame))

    def refuse_feature(self, what: str) -> None:
        """The engine met something a plan cannot replay (engine.tracing calls this)."""
        site = _site(_user_frame())
        if what == ".numpy()":
            self._refuse(what, site)
            return
        reason = (
            f"{what} at {site or 'an unknown line'} inside {self.name}: it runs Python during "
            "the step, and pg.compile replays the step's NumPy calls only. Move it outside "
            "the compiled function, or compile with fallback='eager'"
        )
        if self.fallback == "eager":
            self.unreplayable = self.unreplayable or reason
            return
        raise CompileError(reason)

    def _refuse(self, what: str, site: str) -> None:
        reason = (
            f"{what} at {site or 'an unknown line'} reads a tensor's value into Python while "
            f"pg.compile traces {self.name}: the plan replays NumPy calls only, so the value "
            "would be frozen at this call's. Read it outside the compiled function, keep it "
            "a tensor (pg.where for an if), or compile with fallback='eager'"
        )
        if self.fallback == "eager":
            if self.unreplayable is None:
                self.unreplayable = reason
            return
        raise CompileError(reason)


_TENSOR_FILE = sys.modules[Tensor.__module__].__file__
_CONVERSIONS = {
    "__float__": "float()",
    "__int__": "int()",
    "__bool__": "bool()",
    "__index__": "an index",
    "__format__": "a format",
    "item": ".item()",
    "tolist": ".tolist()",
}


def _strided(array: np.ndarray, shape: tuple, strides: tuple) -> np.ndarray:
    return np.lib.stride_tricks.as_strided(array, shape, strides, writeable=False)


def _draw(generator: Any, method: str, *args: Any, **kwargs: Any) -> Any:
    return getattr(generator.numpy, method)(*args, **kwargs)


def _guard(array: Any, convert: Any, expected: Any, site: str, retry: bool) -> None:
    now = convert(array)
    if now != expected and not (now != now and expected != expected):  # NaN reads the same
        if retry:
            raise _Diverged(site)
        raise CompileError(
            f"pg.compile: a check inside pathgrad at {site} read {expected!r} when the step was "
            f"traced and reads {now!r} now, after the plan changed parameters or drew random "
            "numbers, so it cannot go back; run this call eagerly (the function's .eager)"
        )


class _RecordingStream:
    """Stands for a generator's NumPy stream while tracing: each draw is recorded."""

    def __init__(self, generator: Any, stream: Any) -> None:
        self._generator, self._stream = generator, stream

    def __getattr__(self, method: str) -> Any:
        trace = _active

        def draw(*args: Any, **kwargs: Any) -> Any:
            self._generator.numpy = self._stream  # the real stream draws, then we stand in again
            try:
                return trace.draw(self._generator, method, args, kwargs)
            finally:
                self._generator.numpy = self

        return draw


def _slots_in(template: Any) -> list:
    found: list = []
    stack = [template]
    while stack:
        value = stack.pop()
        kind = type(value)
        if kind is Slot:
            found.append(value)
        elif kind is tuple or kind is list:
            stack.extend(value)
        elif kind is dict:
            stack.extend(value.values())
    return found


def _own_file(filename: str) -> bool:
    return filename.startswith(PACKAGE_DIR) or filename.startswith(NUMPY_DIR)


def _reading_frame() -> Any:
    """The frame that asked for the value (past the Traced method and _read_value)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back
    return frame


def _user_frame() -> Any:
    frame = sys._getframe(1)
    while frame is not None and _own_file(frame.f_code.co_filename):
        frame = frame.f_back
    return frame


def _site(frame: Any) -> str:
    if frame is None:
        return ""
    return f"{frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.f_lineno}"


# NumPy's makers of arrays, patched while tracing: a converter would hand back a plain array
# (a copy or a view) of a Traced one, which the plan could not follow; a new array (np.zeros
# filled in by an index later) is made a Traced constant, so that what is written into it
# afterwards is recorded too
_MAKERS = (
    "array asarray asanyarray ascontiguousarray zeros ones empty full zeros_like ones_like "
    "empty_like full_like arange eye identity linspace"
).split()
_CONVERTERS = frozenset(("array", "asarray", "asanyarray", "ascontiguousarray"))


def _traced_maker(name: str, original: Any) -> Any:
    copies = name == "array"  # np.array copies unless told not to

    def passes_through(array: Traced, kwargs: dict) -> bool:
        if copies and kwargs.get("copy", True) is not False and kwargs.get("copy") is not None:
            return False
        dtype = kwargs.get("dtype")
        if dtype is not None and np.dtype(dtype) != array.dtype:
            return False
        if name == "ascontiguousarray" and not array.flags.c_contiguous:
            return False
        return all(k in ("dtype", "copy", "order") for k in kwargs)

    def make(*args: Any, **kwargs: Any) -> Any:
        trace = _active
        if trace is None:
            return original(*args, **kwargs)
        if _contains_traced(args) or _contains_traced(kwargs):
            if name in _CONVERTERS and type(args[0]) is Traced and passes_through(args[0], kwargs):
                return args[0]  # already an array of the kind asked: NumPy returns it as it is
            return _record(original, args, kwargs)
        result = original(*args, **kwargs)
        if type(result) is np.ndarray and not (args and result is args[0]):
            n = trace.view_of_slot(result)  # as_strided makes its view through np.asarray
            return trace.constant(result) if n is None else trace.arrays[n]
        return result

    return make


# ---------------------------------------------------------------- what the step reaches


class _World:
    """The modules, optimisers and generators a step reaches through its closure and globals."""

    def __init__(self, fn: Any) -> None:
        self.modules: list = []
        self.optimizers: list = []
        self.generators: list = [pg_random.default_generator]
        seen: set = set()
        roots = list(_reachable_roots(fn))
        for root in roots:
            self._visit(root, seen, 0)

    def _visit(self, value: Any, seen: set, depth: int) -> None:
        if id(value) in seen or depth > 4:
            return
        seen.add(id(value))
        if isinstance(value, Module):
            for module in value.modules():
                if id(module) not in seen:
                    seen.add(id(module))
                self.modules.append(module) if module not in self.modules else None
            return
        if isinstance(value, Optimizer):
            self.optimizers.append(value)
            return
        if isinstance(value, pg_random.Generator):
            if value not in self.generators:
                self.generators.append(value)
            return
        if isinstance(value, (list, tuple, set, frozenset)):
            for item in list(value)[:1000]:
                self._visit(item, seen, depth + 1)
        elif isinstance(value, dict):
            for item in list(value.values())[:1000]:
                self._visit(item, seen, depth + 1)
        elif isinstance(value, (types.FunctionType, types.MethodType)):
            for root in _reachable_roots(value):
                self._visit(root, seen, depth + 1)
        elif hasattr(value, "__dict__") and not isinstance(value, (type, types.ModuleType, Tensor)):
            for item in list(vars(value).values()):
                self._visit(item, seen, depth + 1)

    @property
    def groups(self) -> list:
        return [g for optimizer in self.optimizers for g in optimizer.param_groups]

    def freeze(self) -> None:
        """The parameters whose .grad the signature watches, found once."""
        found: dict = {}
        for group in self.groups:
            for p in group["params"]:
                found[id(p)] = p
        for module in self.modules:
            for p in module._parameters.values():
                if p is not None:
                    found[id(p)] = p
        self.params = list(found.values())

    def tensors(self) -> list:
        """Every tensor whose memory the step may read or change, with where a replay finds it
        again: parameters and buffers (themselves), their `.grad` (through the parameter: a
        step may make a new one), optimiser state (through the state dict, which
        load_state_dict refills)."""
        found: dict = {}
        for module in self.modules:
            for t in list(module._parameters.values()) + list(module._buffers.values()):
                if t is not None:
                    found[id(t)] = (t, ("tensor", t))
        for optimizer in self.optimizers:
            for group in optimizer.param_groups:
                for p in group["params"]:
                    found[id(p)] = (p, ("tensor", p))
            for p, state in optimizer.state.items():
                for key, value in state.items():
                    if type(value) is Tensor:
                        found[id(value)] = (value, ("state", optimizer, p, key))
        for t, owner in list(found.values()):
            if t._grad is not None:
                found[id(t._grad)] = (t._grad, ("grad", owner))
        return list(found.values())


def _reachable_roots(fn: Any) -> Any:
    if isinstance(fn, types.MethodType):
        yield fn.__self__
        fn = fn.__func__
    if isinstance(fn, functools.partial):
        yield from fn.args
        yield from fn.keywords.values()
        fn = fn.func
    code = getattr(fn, "__code__", None)
    if code is None:
        if hasattr(fn, "__dict__"):
            yield fn
        return
    yield from getattr(fn, "__defaults__", None) or ()
    yield from (getattr(fn, "__kwdefaults__", None) or {}).values()
    for cell in fn.__closure__ or ():
        try:
            yield cell.cell_contents
        except ValueError:
            continue
    names = set()
    stack = [code]
    while stack:
        c = stack.pop()
        names.update(c.co_names)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    module_globals = getattr(fn, "__globals__", {})
    for name in names:
        if name in module_globals:
            yield module_globals[name]


# ---------------------------------------------------------------- the compiled function


# plans kept for one signature, each valid where its checks inside pathgrad read as traced
_PLANS_PER_SIGNATURE = 4


class _Diverged(Exception):
    """A check inside pathgrad read otherwise than when the plan was traced, before the plan
    changed anything: the call runs by another plan, or is traced anew."""


class CacheEntry(NamedTuple):
    """One trace: its signature, why it was made, and its plan (None: runs eagerly)."""

    signature: Any
    reason: str
    plan: Any
    steps: int


class CacheInfo(NamedTuple):
    traces: int
    replays: int
    eager_calls: int
    entries: list


class CompiledFunction:
    """What `pg.compile(fn)` returns: `fn`, traced on a new signature and replayed after."""

    def __init__(self, fn: Any, fallback: str | None, max_cache: int) -> None:
        if fallback not in (None, "eager"):
            raise ValueError(f"pg.compile: fallback must be None or 'eager', not {fallback!r}")
        functools.update_wrapper(self, fn)
        self.eager = fn
        self.fallback = fallback
        self.max_cache = max_cache
        self._cache: OrderedDict = OrderedDict()
        self._world: _World | None = None
        self._traces = self._replays = self._eager_calls = 0
        self._warned = False
        self._history: list = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _active is not None:  # called from inside another trace: part of that one
            return self.eager(*args, **kwargs)
        if self._world is None:
            self._world = _World(self.eager)
            self._world.freeze()
        signature = self._signature(args, kwargs)
        entries = self._cache.get(signature)
        if entries is None:
            return self._trace(signature, args, kwargs, self._reason(signature))
        self._cache.move_to_end(signature)
        diverged = None
        for entry in entries:  # most often one; more where checks inside pathgrad branch
            if entry.plan is None:
                self._eager_calls += 1
                return self.eager(*args, **kwargs)
            try:
                result = entry.plan(args, kwargs)
            except _Diverged as error:  # before the plan changed anything: try the next
                diverged = error
                continue
            self._replays += 1
            return result
        return self._trace(signature, args, kwargs, f"a check at {diverged} read otherwise")

    def _reason(self, signature: Any) -> str:
        if not self._cache:
            return "first call"
        last = next(reversed(self._cache))
        names = ("arguments", "grad mode", "modules' training flags", "optimisers' settings")
        names += ("optimisers' state", "which parameters hold a .grad")
        changed = [n for n, a, b in zip(names, signature, last) if a != b]
        return "new " + ", ".join(changed) if changed else "new signature"

    def _signature(self, args: tuple, kwargs: dict) -> tuple:
        """What a plan depends on besides the values of its tensors (written for speed: every
        call computes it)."""
        world = self._world
        return (
            _describe(args) + _describe(kwargs) if kwargs else _describe(args),
            grad_mode.recording.get(),
            tuple([m.training for m in world.modules]),
            tuple([_settings(group) for group in world.groups]),
            tuple([_state_keys(optimizer.state) for optimizer in world.optimizers]),
            tuple([p._grad is None for p in world.params]),
        )

    def _trace(self, signature: Any, args: tuple, kwargs: dict, reason: str) -> Any:
        global _active
        trace = _Trace(getattr(self.eager, "__qualname__", "the function"), self.fallback)
        world = self._world
        restore: list = []
        saved_streams = [(g, g.numpy) for g in world.generators]
        saved_makers = [(name, getattr(np, name)) for name in _MAKERS]
        # every tensor the step may touch, with where the plan finds it: an argument's path,
        # or the tensor itself (a parameter, a buffer, a .grad, optimiser state)
        owners = [(t, ("argument", path)) for path, t in _tensor_paths((args, kwargs))]
        owners += world.tensors()
        start = {}
        for t, owner in owners:
            base = t if t._base is None else t._base
            start[id(t)] = (t, owner, t._grad, base, base._version_count)
        try:
            _refuse_outside_hooks(trace, world, owners)
            for t, owner in owners:
                if type(t._data) is not Traced:
                    restore.append((t, t._data))
                    trace.add_input(t, owner)
            for g, stream in saved_streams:
                g.numpy = _RecordingStream(g, stream)
            for name, original in saved_makers:
                setattr(np, name, _traced_maker(name, original))
            grad_mode.engine.tracing = trace.refuse_feature
            _active = trace
            result = self.eager(*args, **kwargs)
        finally:
            _active = None
            grad_mode.engine.tracing = None
            for name, original in saved_makers:
                setattr(np, name, original)
            for g, stream in saved_streams:
                if isinstance(g.numpy, _RecordingStream):
                    g.numpy = stream
            # tensors read at the start: their memory back as a plain array (changed in place
            # through the view), unless the step gave them other memory
            ends = {}
            for t, original in restore:
                data = t._data
                ends[id(t)] = data
                if type(data) is Traced:
                    if trace.inputs.get(data.slot, (None, None, None))[2] is original:
                        t._data = original
                    else:
                        t._data = np.ndarray.view(data, np.ndarray)
        self._traces += 1
        if trace.unreplayable is not None:
            note = f"{reason} (runs eagerly: {trace.unreplayable})"
            self._remember(CacheEntry(signature, note, None, 0))
            if not self._warned:
                self._warned = True
                warnings.warn(f"pg.compile: {trace.unreplayable}; it runs eagerly", stacklevel=3)
            return _plain(result)
        _refuse_writes_outside(trace)
        writes = _write_back(trace, world, start, ends)
        output = _tensor_arrays(result)
        plan, count = _build_plan(trace, output, writes)
        self._remember(CacheEntry(signature, reason, plan, count))
        return _plain(result)

    def _remember(self, entry: CacheEntry) -> None:
        entries = self._cache.setdefault(entry.signature, [])
        entries.insert(0, entry)  # the newest first: the inputs most like the next call's
        del entries[_PLANS_PER_SIGNATURE:]
        self._cache.move_to_end(entry.signature)
        while len(self._cache) > self.max_cache:
            self._cache.popitem(last=False)

    def cache_info(self) -> CacheInfo:
        """How many traces were made and why, how many calls replayed one, and the plans kept."""
        entries = [
            {"reason": e.reason, "steps": e.steps, "eager": e.plan is None}
            for kept in self._cache.values()
            for e in reversed(kept)
        ]
        return CacheInfo(self._traces, self._replays, self._eager_calls, entries)

    def cache_clear(self) -> None:
        self._cache.clear()
        self._world = None


def _settings(group: dict) -> tuple:
    """An optimiser's parameter group's settings (lr, momentum, ...), hashable."""
    return tuple([(k, _describe(v)) for k, v in group.items() if k != "params"])


def _state_keys(state: dict) -> tuple:
    """Which state each parameter holds (a first step makes it), and any non-tensor values."""
    return tuple(
        [
            (k, None if type(v) is Tensor else _describe(v))
            for s in state.values()
            for k, v in s.items()
        ]
    )


def _describe(value: Any) -> Any:
    """What of an argument the plan depends on: a tensor's shape, dtype and requires_grad; the
    value of anything else."""
    kind = type(value)
    if kind is Tensor:
        data = value._data
        return (data.shape, data.dtype, value._requires_grad, value._grad is None)
    if kind is tuple or kind is list:
        return (kind,) + tuple([_describe(v) for v in value])
    if kind is dict:
        return ("dict",) + tuple((k, _describe(v)) for k, v in value.items())
    if isinstance(value, np.ndarray):
        return ("ndarray", value.shape, value.dtype.str, value.tobytes())
    try:
        hash(value)
    except TypeError:
        return ("object", id(value))
    return value


def _tensor_paths(value: Any, path: tuple = ()) -> Any:
    kind = type(value)
    if kind is Tensor:
        yield path, value
    elif kind is tuple or kind is list:
        for i, v in enumerate(value):
            yield from _tensor_paths(v, path + (i,))
    elif kind is dict:
        for k, v in value.items():
            yield from _tensor_paths(v, path + (k,))


def _tensor_arrays(value: Any) -> Any:
    """The step's result with each tensor marked for the plan (("tensor", its array))."""
    kind = type(value)
    if kind is Tensor:
        return _Out(value._data, value._requires_grad)
    if kind is tuple or kind is list:
        return kind(_tensor_arrays(v) for v in value)
    if kind is dict:
        return {k: _tensor_arrays(v) for k, v in value.items()}
    return value


class _Out:
    """A tensor in the step's result: its array (a Slot once templated)."""

    def __init__(self, data: Any, requires_grad: bool) -> None:
        self.data, self.requires_grad = data, requires_grad


def _plain(value: Any) -> Any:
    """The first call's result with its arrays plain again (no Traced left in user hands)."""
    kind = type(value)
    if kind is Tensor:
        if type(value._data) is Traced:
            value._data = np.ndarray.view(value._data, np.ndarray)
        return value
    if kind is tuple or kind is list:
        return kind(_plain(v) for v in value)
    if kind is dict:
        return {k: _plain(v) for k, v in value.items()}
    return value


def _write_back(trace: _Trace, world: _World, start: dict, ends: dict) -> list:
    """What the step left that the plan must leave the same way, each (what, owner, key,
    slot): memory given anew, a .grad made or dropped, optimiser state or a buffer made, a
    version counted. Owners are ("argument", path) or ("tensor", t)."""
    writes = []
    for t, owner, grad_before, base, version in start.values():
        end = ends.get(id(t))
        if type(end) is Traced and trace.inputs.get(end.slot, (None, None))[1] is not t:
            writes.append(("data", owner, None, trace.template(end)))
        if base._version_count != version and base is t:
            writes.append(("version", owner, base._version_count - version, None))
        grad = t._grad
        if grad is grad_before and (grad is None or id(grad) in ends):
            continue  # the same .grad (changed in place, if at all: its memory was an input)
        if grad is None:
            writes.append(("grad", owner, None, None))
        else:
            data = ends.get(id(grad), grad._data)
            writes.append(("grad", owner, None, trace.template(data)))
            grad._data = _unwrap(data)
    for optimizer in world.optimizers:
        for p, state in optimizer.state.items():
            for key, value in state.items():
                if type(value) is Tensor and type(value._data) is Traced and id(value) not in ends:
                    slot = trace.template(value._data)
                    writes.append(("state", ("tensor", optimizer), (p, key), slot))
                    value._data = _unwrap(value._data)
    for module in world.modules:
        for table in ("_buffers", "_parameters"):
            for key, value in getattr(module, table).items():
                if value is not None and type(value._data) is Traced and id(value) not in ends:
                    writes.append((table, ("tensor", module), key, trace.template(value._data)))
                    value._data = _unwrap(value._data)
    return writes


def _refuse_writes_outside(trace: _Trace) -> None:
    """An array that existed before the trace, reached by no argument, module or optimiser the
    step can be seen to hold, and changed in place by it: a plan would change a frozen copy."""
    found = {slot for slot in trace.raw_slots.values() if slot in trace.constants}
    for step in trace.steps:
        for n in step.writes or ():
            root = _root(trace.arrays[n])
            if any(_root(trace.arrays[m]) == root for m in found):
                raise CompileError(
                    f"pg.compile: {trace.name} changes in place an array of shape "
                    f"{trace.arrays[n].shape} that it reaches neither through its arguments nor "
                    "through a module or optimiser in its closure, globals or defaults; pass "
                    "the tensor (or its module) as an argument"
                )


def _refuse_outside_hooks(trace: _Trace, world: _World, owners: list) -> None:
    """Hooks already in place would run Python at every eager step that a plan skips."""
    from pathgrad import dispatch

    if grad_mode.engine.apply is not dispatch.apply:
        trace.refuse_feature("anomaly mode (on when the step was called)")
    for t, _ in owners:
        if t._hooks:
            trace.refuse_feature(f"a hook on a tensor of shape {tuple(t.shape)} the step reaches")
    for module in world.modules:
        if module._forward_hooks or module._forward_pre_hooks:
            trace.refuse_feature(f"a forward hook on {type(module).__name__}")


# ---------------------------------------------------------------- the plan


def _root(array: Any) -> int:
    """The identity of the array owning `array`'s memory: writes through one view reach all."""
    while True:
        base = array.base
        if not isinstance(base, np.ndarray):  # as_strided's holder, a memoryview, or none
            base = getattr(base, "base", None) if base is not None else None
            if not isinstance(base, np.ndarray):
                return id(array)
        array = base


def _outs(step: Step) -> tuple:
    out = step.out
    return () if out is None else (out if type(out) is tuple else (out,))


def _elide_broadcasts(trace: _Trace, steps: list) -> None:
    """An elementwise ufunc reading `np.broadcast_to(x, shape)` reads `x` instead where NumPy's
    own broadcasting gives the same result shape: the engine's broadcast node is free."""
    source: dict = {}
    for step in steps:
        if step.call is np.broadcast_to and step.kind == "call" and type(step.args[0]) is Slot:
            source[step.out] = step.args[0]
    if not source:
        return
    for step in steps:
        if not isinstance(step.call, np.ufunc) or step.call.signature is not None:
            continue  # a gufunc (matmul) broadcasts only its loop dims
        if step.kind != "call" or step.kwargs:
            continue
        args = list(step.args)
        changed = False
        for i, a in enumerate(args):
            if type(a) is Slot and a.n in source:
                args[i], changed = source[a.n], True
        if not changed:
            continue
        shapes = [trace.arrays[a.n].shape if type(a) is Slot else np.shape(a) for a in args]
        if np.broadcast_shapes(*shapes) == trace.arrays[_outs(step)[0]].shape:
            step.args = tuple(args)


def _prune(trace: _Trace, output_slots: list, write_slots: list) -> list:
    """The steps that make the step's result, write-backs and state changes, in order."""
    roots = [_root(a) for a in trace.arrays]
    needed = set(output_slots) | set(write_slots)
    live_roots = {roots[n] for n in needed} | {roots[n] for n in trace.inputs}
    kept = []
    for step in reversed(trace.steps):
        if step.kind in ("draw", "guard"):
            keep = True
        elif step.writes is not None:
            keep = any(roots[n] in live_roots for n in step.writes)
        else:
            keep = any(n in needed for n in _outs(step))
        if keep:
            kept.append(step)
            for slot in _slots_in((step.args, step.kwargs)):
                needed.add(slot.n)
                live_roots.add(roots[slot.n])
    kept.reverse()
    return kept


class _Writer:
    """Writes the plan as Python source: one line per NumPy call, names bound in `namespace`."""

    def __init__(self) -> None:
        self.namespace: dict = {"_asarray": _asarray, "_from_array": from_array}
        self.slot_names: dict = {}
        self.lines: list = []
        self.buffer_specs: dict = {}  # name -> _Buffer
        self.register_sizes: list = []

    def bind(self, value: Any, prefix: str = "K") -> str:
        name = f"{prefix}{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def expr(self, value: Any) -> str:
        kind = type(value)
        if kind is _Registered:
            name = f"B{len(self.buffer_specs)}"
            self.namespace[name] = None
            self.buffer_specs[name] = value.buffer
            self.register_sizes = value.sizes
            return name
        if kind is Slot:
            return self.slot_names[value.n]
        if kind is tuple:
            inner = ", ".join(self.expr(v) for v in value)
            return f"({inner},)" if value else "()"
        if kind is list:
            return "[" + ", ".join(self.expr(v) for v in value) + "]"
        if kind is dict and all(type(k) is str for k in value):
            return "{" + ", ".join(f"{k!r}: {self.expr(v)}" for k, v in value.items()) + "}"
        if kind is slice:
            return (
                f"slice({self.expr(value.start)}, {self.expr(value.stop)}, {self.expr(value.step)})"
            )
        if value is None or kind is bool or kind is int or kind is str:
            return repr(value)
        if kind is float and value == value and value not in (float("inf"), float("-inf")):
            return repr(value)
        return self.bind(value)

    def owner(self, owner: tuple) -> str:
        """Where the plan finds a tensor: an argument by its path, anything else bound."""
        if owner[0] == "argument":
            return "AK" + "".join(f"[{p!r}]" for p in owner[1])
        if owner[0] == "grad":
            return self.owner(owner[1]) + "._grad"
        if owner[0] == "state":
            _, optimizer, p, key = owner
            return f"{self.bind(optimizer, 'O')}.state[{self.bind(p, 'T')}][{key!r}]"
        return self.bind(owner[1], "T")

    def call(self, step: Step) -> str:
        args = [self.expr(a) for a in step.args]
        if step.call is operator.getitem:
            return f"{args[0]}[{args[1]}]"
        keywords = [f"{k}={self.expr(v)}" for k, v in step.kwargs.items()]
        text = f"{self.bind(step.call, 'F')}({', '.join(args + keywords)})"
        return f"_asarray({text})" if step.as_array else text


class _Buffer(NamedTuple):
    """An array the plan keeps between replays: a view of one of its registers (flat memory
    that slots whose lives do not overlap take in turn), made at its first replay (a plan that
    is never replayed, as a training loop's first step's, costs no memory)."""

    register: int
    shape: tuple
    dtype: Any


class _Registered(NamedTuple):
    """A slot's buffer and the sizes of the plan's registers (to make them)."""

    buffer: _Buffer
    sizes: list


def _reusable_outputs(trace: _Trace, kept: list, escaping: list) -> dict:
    """Arrays the plan keeps from one replay to the next and writes again (through `out=`),
    for the slots that can take one: a ufunc's or a reduction's fresh result whose memory
    nothing outside the plan holds (not the result, not a .grad or state it leaves, not an
    input's). Slots whose lives do not overlap share one, as registers are allocated, so the
    plan holds about what eager holds at its peak; a slot's life ends at the last step that
    reads or writes its memory (through any view of it)."""
    roots = [_root(a) for a in trace.arrays]
    held = {roots[n] for n in escaping} | {roots[n] for n in trace.inputs}
    last_use: dict = {}
    for i, step in enumerate(kept):
        for slot in _slots_in((step.args, step.kwargs)):
            last_use[roots[slot.n]] = i
        for n in _outs(step) + (step.writes or ()):
            last_use[roots[n]] = max(last_use.get(roots[n], i), i)
    sizes: list = []  # each register's size in bytes: the most any slot it held needs
    free: list = []  # registers no live slot uses
    in_use: list = []  # (last step, register)
    buffers = {}
    for i, step in enumerate(kept):
        still = []
        for end, register in in_use:
            if end < i:
                free.append(register)
            else:
                still.append((end, register))
        in_use = still
        if step.kind != "call" or step.as_array or type(step.out) is not int:
            continue
        call = step.call
        if not (
            isinstance(call, np.ufunc)
            or (
                getattr(call, "__name__", "") == "reduce"
                and isinstance(getattr(call, "__self__", None), np.ufunc)
            )
        ):
            continue
        if "out" in step.kwargs or roots[step.out] in held:
            continue
        traced = _unwrap(trace.arrays[step.out])
        if traced.dtype.hasobject:
            continue  # np.frompyfunc's objects: memory of pointers, never raw bytes
        needed = max(traced.nbytes, 1)
        # the smallest free register that holds it, else the largest (grown), else a new one
        fitting = [r for r in free if sizes[r] >= needed]
        if fitting:
            register = min(fitting, key=sizes.__getitem__)
        elif free:
            register = max(free, key=sizes.__getitem__)
        else:
            register = len(sizes)
            sizes.append(0)
        if register in free:
            free.remove(register)
        sizes[register] = max(sizes[register], needed)
        buffers[step.out] = _Buffer(register, traced.shape, traced.dtype)
        in_use.append((last_use.get(roots[step.out], i), register))
    for n, buffer in buffers.items():
        buffers[n] = _Registered(buffer, sizes)
    return buffers


def _build_plan(trace: _Trace, output: Any, writes: list) -> tuple:
    steps = trace.steps
    _elide_broadcasts(trace, steps)
    output_slots = [s.n for s in _slots_in(_out_template(trace, output))]
    write_slots = [w[3].n for w in writes if w[3] is not None]
    kept = _prune(trace, output_slots, write_slots)
    reusable = _reusable_outputs(trace, kept, output_slots + write_slots)
    roots = [_root(a) for a in trace.arrays]
    written = {roots[n] for step in kept if step.writes for n in step.writes}
    w = _Writer()
    needed = {s.n for step in kept for s in _slots_in((step.args, step.kwargs))}
    needed.update(output_slots, write_slots)
    for slot, (owner, _, _) in trace.inputs.items():
        if slot in needed:
            w.slot_names[slot] = f"s{slot}"
            w.lines.append(f"s{slot} = {w.owner(owner)}._data")
    calls = 0
    release_at = None
    state_roots = {roots[n] for n in trace.inputs}
    changed = False  # whether the plan has changed state (or drawn) by this step
    for step in kept:
        if step.kind == "guard":
            step.args = step.args + (not changed,)
        elif not changed and (
            step.kind == "draw"
            or (step.writes and any(roots[n] in state_roots for n in step.writes))
        ):
            changed, release_at = True, len(w.lines)
        if step.kind == "constant":
            constant = w.bind(trace.constants[step.out])
            if roots[step.out] in written:
                w.slot_names[step.out] = f"s{step.out}"
                w.lines.append(f"s{step.out} = {constant}.copy()")
            else:
                w.slot_names[step.out] = constant
            continue
        calls += 1
        if step.call is operator.setitem:
            target, key, value = (w.expr(a) for a in step.args)
            w.lines.append(f"{target}[{key}] = {value}")
            continue
        if step.out in reusable:  # the array this slot had last replay is free again
            buffer = reusable[step.out]
            step.kwargs = dict(step.kwargs, out=buffer)
        text = w.call(step)
        outs = _outs(step)
        if not outs:
            w.lines.append(text)
            continue
        for n in outs:
            w.slot_names[n] = f"s{n}"
        if type(step.out) is tuple:
            w.lines.append(", ".join(f"s{n}" for n in outs) + f", = {text}")
        else:
            w.lines.append(f"s{step.out} = {text}")
        for n in outs:  # a view the step made writable (NumPy hands diagonals out read-only)
            if n in trace.read_only and trace.arrays[n].flags.writeable:
                w.lines.append(f"s{n}.flags.writeable = True")
    # a .grad the plan replaces and never reads is let go before the plan changes anything
    # (after its last check that can still send the call elsewhere), as zero_grad lets it go
    read = {w.owner(owner) for owner, _, _ in trace.inputs.values() if owner[0] == "grad"}
    released = [
        f"{w.owner(owner)}._grad = None"
        for kind, owner, _, slot in writes
        if kind == "grad" and slot is not None and f"{w.owner(owner)}._grad" not in read
    ]
    at = len(w.lines) if release_at is None else release_at
    w.lines[at:at] = released
    bumped = 0
    for kind, owner, key, slot in writes:
        target = w.owner(owner)
        value = "None" if slot is None else f"_from_array({_fresh(w, trace, slot)})"
        if kind == "data":
            w.lines.append(f"{target}._data = {w.expr(slot)}")
        elif kind == "grad":
            w.lines.append(f"{target}._grad = {value}")
        elif kind == "state":
            p, name = key
            w.lines.append(f"{target}.state[{w.bind(p, 'T')}][{name!r}] = {value}")
        elif kind == "version":  # in-place changes counted, as eager counts them
            w.lines.append(f"{target}._version_count += {key}")
            bumped += key
        else:
            w.lines.append(f"{target}.{kind}[{key!r}] = {value}")
    if bumped:
        w.namespace["_versions"] = versions
        w.lines.append(f"_versions.epoch += {bumped}")
    w.lines.append(f"return {_out_expr(w, trace, output)}")
    prologue = "    AK = (A, KW)\n"
    if w.buffer_specs:
        namespace, specs, sizes = w.namespace, w.buffer_specs, w.register_sizes

        def allocate() -> None:
            registers = [np.empty(size, np.uint8) for size in sizes]
            for name, b in specs.items():
                namespace[name] = np.ndarray(b.shape, b.dtype, registers[b.register], 0)

        namespace["_allocate"] = allocate
        prologue += "    if B0 is None:\n        _allocate()\n"
    source = "def plan(A, KW):\n" + prologue + "".join(f"    {line}\n" for line in w.lines)
    return _Plan(source, w.namespace, f"<pg.compile plan of {trace.name}>"), calls


class _Plan:
    """A plan's source, compiled at its first replay (a training loop's first step, traced
    before any optimiser state exists, is never replayed and costs no code object)."""

    __slots__ = ("source", "namespace", "filename", "run")

    def __init__(self, source: str, namespace: dict, filename: str) -> None:
        self.source, self.namespace, self.filename = source, namespace, filename
        self.run = self._compile_and_run

    def _compile_and_run(self, args: tuple, kwargs: dict) -> Any:
        exec(builtins.compile(self.source, self.filename, "exec"), self.namespace)
        self.run = self.namespace["plan"]
        return self.run(args, kwargs)

    def __call__(self, args: tuple, kwargs: dict) -> Any:
        return self.run(args, kwargs)


def _fresh(w: _Writer, trace: _Trace, slot: Slot) -> str:
    """A slot's array for a tensor the plan hands out: a constant is copied, so that a change
    the user makes to it in place cannot reach the next replay's."""
    text = w.expr(slot)
    return text if slot.n in trace.varying else f"{text}.copy()"


def _out_template(trace: _Trace, output: Any) -> Any:
    kind = type(output)
    if kind is _Out:
        output.data = trace.template(output.data)
        return output.data
    if kind is tuple or kind is list:
        return kind(_out_template(trace, v) for v in output)
    if kind is dict:
        return {k: _out_template(trace, v) for k, v in output.items()}
    return None


def _out_expr(w: _Writer, trace: _Trace, output: Any) -> str:
    kind = type(output)
    if kind is _Out:
        return f"_from_array({_fresh(w, trace, output.data)})"
    if kind is tuple:
        return "(" + "".join(f"{_out_expr(w, trace, v)}, " for v in output) + ")"
    if kind is list:
        return "[" + ", ".join(_out_expr(w, trace, v) for v in output) + "]"
    if kind is dict:
        return (
            "{"
            + ", ".join(f"{w.expr(k)}: {_out_expr(w, trace, v)}" for k, v in output.items())
            + "}"
        )
    return w.expr(output)


def compile(fn: Any = None, *, fallback: str | None = None, cache_size: int = 8) -> Any:  # noqa: A001
    """`fn` traced on its first call with each signature and replayed after as a flat plan of
    NumPy calls (see the README's "Compiled steps"). Usable as `@pg.compile` or
    `@pg.compile(fallback="eager")`.

    >>> step = pg.compile(lambda x: (x * 2).sum())
    >>> step(pg.ones(3)), step(pg.ones(3))  # traced, then replayed
    (tensor(6.), tensor(6.))
    """
    if fn is None:
        return lambda f: CompiledFunction(f, fallback, cache_size)
    if not callable(fn):
        raise TypeError(f"pg.compile: expects a function, got {type(fn).__name__}")
    return CompiledFunction(fn, fallback, cache_size)


__all__ = ["CompileError", "CompiledFunction", "Traced", "compile"]

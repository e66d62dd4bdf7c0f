"""Recording a step: the `Traced` array, whose NumPy calls are written into a `Trace` as steps
over numbered slots, NumPy's array makers patched for the trace, random draws recorded, and
values read into Python refused (in the user's code) or made guards (inside pathgrad)."""

from __future__ import annotations

import functools
import operator
import sys
import weakref
from threading import get_ident
from typing import Any, NamedTuple

import numpy as np

from pathgrad.tensor import Tensor

PACKAGE_DIR = __file__.rsplit("/", 2)[0]
NUMPY_DIR = np.__file__.rsplit("/", 1)[0]

# NumPy's own converters, kept: tracing patches np.asarray and kin (see MAKERS)
plain_asarray = np.asarray

_active: Trace | None = None  # the trace being recorded, if any (tracing is one at a time)


class CompileError(RuntimeError):
    """A step that cannot be replayed as a plan (a tensor's value read into Python, a hook,
    a change to an array it reaches in no way a plan can follow), named with its line."""


# ---------------------------------------------------------------- the traced array


class Traced(np.ndarray):
    """An ndarray that, while a step is traced, writes each NumPy call on it into the plan.
    Outside a trace it computes as a plain ndarray would."""

    slot: int = -1
    numpy_scalar = False  # stands for the NumPy scalar eager had (np.float32(...)), as 0-d

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


def tree_map(leaf: Any, value: Any) -> Any:
    """`value` rebuilt with `leaf(v)` for each v that is not a tuple, list or dict it nests in
    (the arguments of a NumPy call, a step's result): every walker of pg.compile is one."""
    kind = type(value)
    if kind is tuple or kind is list:
        return kind([tree_map(leaf, v) for v in value])
    if kind is dict:
        return {k: tree_map(leaf, v) for k, v in value.items()}
    return leaf(value)


def tree_leaves(value: Any) -> list:
    """What `tree_map` would call `leaf` on, in order."""
    found: list = []
    stack = [value]
    while stack:
        v = stack.pop()
        kind = type(v)
        if kind is tuple or kind is list:
            stack.extend(reversed(v))
        elif kind is dict:
            stack.extend(reversed(v.values()))
        else:
            found.append(v)
    return found


def _plain_leaf(value: Any) -> Any:
    kind = type(value)
    if kind is Traced:
        return np.ndarray.view(value, np.ndarray)
    if kind is Live:  # a plain float, as NumPy's weak Python scalar (a subclass is not weak)
        return float(value)
    return value


def unwrap(value: Any) -> Any:
    """`value` with every Traced array as a plain view of it (nested in tuples, lists, dicts)."""
    kind = type(value)
    if kind is Traced or kind is Live:
        return _plain_leaf(value)
    return tree_map(_plain_leaf, value) if kind is tuple or kind is list or kind is dict else value


def _contains_traced(value: Any) -> bool:
    return any(type(v) is Traced for v in tree_leaves(value))


# ---------------------------------------------------------------- recording


class Live(float):
    """A number the plan reads afresh at every replay (an optimiser's learning rate, which a
    schedule changes between steps): a float for every computation during the trace, and, for
    the plan, where it is read (`source`) or how it was computed from such numbers. Python
    arithmetic on it stays live; where it meets an array, the NumPy call is recorded with it."""

    source: Any

    def __new__(cls, value: float, source: Any) -> Live:
        live = super().__new__(cls, value)
        live.source = source
        return live


def _live_operator(symbol: str, reflected: bool) -> Any:
    compute = getattr(float, f"__{'r' if reflected else ''}{_NAMES[symbol]}__")

    def apply(self: Live, other: Any) -> Any:
        if not isinstance(other, (int, float)) or isinstance(other, bool):
            return NotImplemented  # an array: its reflected method records the call with us
        value = compute(float(self), float(other))
        left, right = (other, self) if reflected else (self, other)
        return Live(value, (symbol, left, right))

    return apply


_NAMES = {"+": "add", "-": "sub", "*": "mul", "/": "truediv", "**": "pow"}
for _symbol, _name in _NAMES.items():
    setattr(Live, f"__{_name}__", _live_operator(_symbol, False))
    setattr(Live, f"__r{_name}__", _live_operator(_symbol, True))
Live.__neg__ = lambda self: Live(-float(self), ("-", 0.0, self))  # type: ignore[method-assign]


class Slot(NamedTuple):
    """Where a step reads or writes: slot number `n` of the plan."""

    n: int


class Step:
    """One recorded call: `call(*args, **kwargs)` with Slot markers for arrays, its result's
    slots (`out`: a slot, a tuple of them, or None), the slot it writes in place (`writes`),
    and how its result is taken (`as_array`: a NumPy scalar result made a 0-d array)."""

    __slots__ = ("call", "args", "kwargs", "out", "writes", "as_array", "kind")

    def __init__(self, call, args, kwargs, out, writes=None, as_array=False, kind="call"):
        self.call, self.args, self.kwargs, self.out = call, args, kwargs, out
        self.writes, self.as_array, self.kind = writes, as_array, kind


# NumPy functions whose Python-number result says nothing about the values (so not a read)
_METADATA_FUNCTIONS = frozenset(
    (np.shape, np.ndim, np.size, np.result_type, np.can_cast, np.min_scalar_type)
    + (np.shares_memory, np.may_share_memory, np.iscomplexobj, np.isrealobj)
)


def _record(call, args, kwargs, ufunc_method=None, writes=None):
    """Run `call` on plain arrays and, inside a trace, write it into the plan."""
    global _active
    trace = _active
    if trace is None or trace.thread != get_ident():  # no trace, or another thread's
        return call(*unwrap(args), **unwrap(kwargs))
    _active = None  # the call is one step: what NumPy does inside it is not recorded again
    try:
        result = call(*unwrap(args), **unwrap(kwargs))
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
    if trace is not None and trace.thread == get_ident():
        trace.value_read(array, convert, what, value)
    return value


class SlotInfo(NamedTuple):
    """What the plan needs of a slot's trace-time array, kept after the array is gone: its
    layout, where its memory starts, which memory it is (`root`, a number no other memory of
    the trace gets) and whether it owns that memory (a result, not a view)."""

    shape: tuple
    dtype: Any
    strides: tuple
    nbytes: int
    pointer: int
    root: int
    owns: bool


class Trace:
    """The plan being recorded: its steps, its slots' trace-time arrays, inputs and constants.

    The trace holds its slots' arrays weakly, so that a step's intermediates are let go as
    eager lets them go and the first call peaks near eager's; a slot keeps its SlotInfo. Memory
    is told apart by a number given to each owning array while it lives (ids are used again
    once an array is gone)."""

    def __init__(self, name: str, fallback: str | None) -> None:
        self.name, self.fallback = name, fallback
        self.thread = get_ident()  # NumPy's makers are patched for all threads: this one's
        self.steps: list[Step] = []
        self.refs: list[Any] = []  # each slot's Traced array, weakly
        self.info: list[SlotInfo] = []  # each slot's layout and memory
        self.inputs: dict[int, tuple] = {}  # slot -> (how to read it, tensor)
        self.constants: dict[int, Any] = {}  # slot -> its value
        self.raw_slots: dict[int, int] = {}  # id(raw ndarray) -> its constant slot
        self.by_root: dict[int, list] = {}  # memory's number -> slots on it
        self.raw_kept: list = []  # the raw arrays in raw_slots, alive so their ids stay theirs
        self.read_only: dict = {}  # slot -> its array, which NumPy made read-only (a diagonal)
        self.shaped: set = set()  # input slots whose shape a replay checks (closure data)
        self.varying: set[int] = set()  # slots whose value depends on inputs or draws
        self.unreplayable: str | None = None  # why not, where fallback="eager" let it run on
        self.saw_live = False  # whether the call being recorded reads a Live number
        self._roots: dict[int, int] = {}  # id of a living owning array -> its memory's number
        self._watched: list = []  # weak references that drop an owner's id when it goes

    def root_of(self, array: Any, known_only: bool = False) -> int | None:
        """The number of the memory `array` views (None: memory the trace has not met, when
        `known_only`)."""
        return self._number(memory_owner(array), known_only)

    def _number(self, owner: Any, known_only: bool = False) -> int | None:
        root = self._roots.get(id(owner))
        if root is None and not known_only:
            root = self._roots[id(owner)] = len(self._watched)
            forget = functools.partial(_forget, self._roots, id(owner))
            self._watched.append(weakref.ref(owner, forget))
        return root

    def close(self) -> None:
        """After the trace: owners that outlive it no longer call back into it."""
        self._watched.clear()
        self._roots.clear()

    def new_slot(self, array: Any) -> Traced:
        n = len(self.refs)
        traced = np.ndarray.view(array, Traced)
        traced.slot = n
        if not array.flags.writeable:
            self.read_only[n] = traced  # NumPy's read-only view: the step may unlock it
        self.refs.append(weakref.ref(traced))
        owner = memory_owner(array)
        root, owns = self._number(owner), owner is array
        pointer = array.__array_interface__["data"][0]
        self.info.append(
            SlotInfo(array.shape, array.dtype, array.strides, array.nbytes, pointer, root, owns)
        )
        self.by_root.setdefault(root, []).append(n)
        return traced

    def view_of_slot(self, array: np.ndarray) -> Traced | None:
        """A plain array that views a slot's memory, made where no call could be recorded
        (np.ndarray(buffer=...), as_strided): recorded, as a new slot, as the same view of that
        slot; None if it views no slot's memory."""
        slots = self.by_root.get(self.root_of(array, known_only=True))
        if not slots:
            return None
        pointer = array.__array_interface__["data"][0]
        reach = _extent(pointer, array.shape, array.strides, array.itemsize)
        for n in reversed(slots):
            source = self.info[n]
            if source.pointer != pointer or source.dtype != array.dtype:
                continue
            if reach is not None:  # the slot must hold every byte the view reads
                held = _extent(pointer, source.shape, source.strides, source.dtype.itemsize)
                if held is None or reach[0] < held[0] or reach[1] > held[1]:
                    continue  # (an empty slice starts where its memory does, holding none)
            same = _broadcast_strides(source.shape, source.strides, array.shape) == array.strides
            call: Any = np.broadcast_to if same else _strided
            args = (Slot(n), array.shape) if same else (Slot(n), array.shape, array.strides)
            traced = self.new_slot(array)
            self.steps.append(Step(call, args, {}, traced.slot))
            if n in self.varying:
                self.varying.add(traced.slot)
            return traced
        if not any(n in self.varying for n in slots):
            return None  # other views of memory the plan never changes: a constant too
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
        self.constants[traced.slot] = array.copy(
            order="K"
        )  # its layout: later reductions add in its order
        self.steps.append(Step(None, (), {}, traced.slot, kind="constant"))
        return traced

    def template(self, value: Any) -> Any:
        """`value` with arrays as Slot markers: a raw ndarray (made outside the trace's view:
        np.zeros, np.arange, a tensor the step does not own) becomes a constant slot."""
        return tree_map(self._template_leaf, value)

    def _template_leaf(self, value: Any) -> Any:
        kind = type(value)
        if kind is Traced:
            n = value.slot
            if 0 <= n < len(self.refs) and self.refs[n]() is value:
                return Slot(n)
            # a view NumPy made without a call this trace saw (np.ndarray(buffer=...)), or an
            # array left from another trace (a constant here)
            raw = np.ndarray.view(value, np.ndarray)
            made = self.view_of_slot(raw)
            if made is None:
                return self._template_leaf(raw)
            self.refs[made.slot] = weakref.ref(value)
            if made.slot in self.read_only:
                self.read_only[made.slot] = value
            value.slot = made.slot
            return Slot(value.slot)
        if kind is np.ndarray:
            slot = self.raw_slots.get(id(value))
            if slot is None:
                made = self.view_of_slot(value)
                if made is not None:
                    self.raw_slots[id(value)] = made.slot
                    self.raw_kept.append(value)
                    return Slot(made.slot)
                slot = self.constant(value).slot
                self.raw_slots[id(value)] = slot
                self.raw_kept.append(value)
            return Slot(slot)
        if kind is Live:
            self.saw_live = True
        return value

    def record(self, call, args, kwargs, result, ufunc_method, writes):
        self.saw_live = False
        arg_t, kwarg_t = self.template(args), self.template(kwargs)
        slots = slots_in((arg_t, kwarg_t))
        varying = self.saw_live or any(s.n in self.varying for s in slots)
        out_arg = kwargs.get("out") if ufunc_method is not None else None
        if ufunc_method == "at" or (
            result is None and writes is None and args and isinstance(args[0], np.ndarray)
        ):
            writes = 0  # np.add.at, np.put_along_axis, np.copyto: they fill their first argument
        if writes is not None or out_arg is not None:
            if out_arg is not None:
                outs = out_arg if type(out_arg) is tuple else (out_arg,)
                targets = [t.n for t in slots_in(self.template(outs))]
            else:
                targets = [arg_t[writes].n]
            step = Step(call, arg_t, kwarg_t, None, writes=tuple(targets))
            self.steps.append(step)
            for n in targets:  # every view of the memory written now varies
                self.varying.update(self.by_root.get(self.info[n].root, (n,)))
            if out_arg is None:
                return result
            # NumPy returns the out= array itself (a tuple of them for several outputs)
            return out_arg if type(out_arg) is tuple and len(out_arg) > 1 else outs[0]
        if isinstance(result, np.ndarray):
            traced = self.new_slot(result)
            out, items = traced.slot, [traced]
            wrapped: Any = traced
        elif isinstance(result, np.generic):
            traced = self.new_slot(plain_asarray(result))
            traced.numpy_scalar = True  # pathgrad's ops take it as a Python number, as eager
            out, items = traced.slot, [traced]
            wrapped = traced
        elif (
            isinstance(result, tuple)
            and result
            and all(isinstance(r, (np.ndarray, np.generic)) for r in result)
        ):
            items = [self.new_slot(plain_asarray(r)) for r in result]
            for item, r in zip(items, result):
                item.numpy_scalar = isinstance(r, np.generic)
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
            root = self.root_of(result)
            varying = any(self.info[s.n].root == root for s in slots)
        if varying:
            self.steps.append(Step(call, arg_t, kwarg_t, out, as_array=as_array))
            self.varying.update(outs)
            if _shape_follows_values(call, args):
                # a mask's count, the number of nonzeros: the plan holds for this shape only
                for n in outs:
                    site = site_of(user_frame())
                    shape = self.info[n].shape
                    self.steps.append(
                        Step(_guard, (Slot(n), np.shape, shape, site), {}, None, kind="guard")
                    )
        else:  # only constants went in: the result is a constant too (folded)
            for item in items:
                self.constants[item.slot] = unwrap(item).copy(order="K")
                self.steps.append(Step(None, (), {}, item.slot, kind="constant"))
        return wrapped

    def draw(self, generator: Any, method: str, args: tuple, kwargs: dict) -> Any:
        """A random draw: made now from the real stream and again at every replay, in order."""
        result = getattr(generator.numpy, method)(*unwrap(args), **unwrap(kwargs))
        arg_t, kwarg_t = self.template(args), self.template(kwargs)
        traced = self.new_slot(plain_asarray(result))
        step = Step(functools.partial(_draw, generator, method), arg_t, kwarg_t, traced.slot)
        step.kind, step.as_array = "draw", not isinstance(result, np.ndarray)
        self.steps.append(step)
        self.varying.add(traced.slot)
        return traced

    def value_read(self, array: Traced, convert: Any, what: str, value: Any) -> None:
        caller = _reading_frame()
        site = site_of(caller)
        if caller is not None and not _own_file(caller.f_code.co_filename):
            self._refuse(what, site)
            return
        if caller is not None and caller.f_code.co_filename == _TENSOR_FILE:
            # a Tensor's conversion (float(t) calls t.item()): named as the user wrote it
            frame = caller
            while frame.f_back is not None and frame.f_back.f_code.co_filename == _TENSOR_FILE:
                frame = frame.f_back
            what = _CONVERSIONS.get(frame.f_code.co_name, what)
            self._refuse(what, site_of(user_frame()))
            return
        # pathgrad's own code read a value (a check of an index's range, a loop's length):
        # the plan checks at each replay that it reads the same, and refuses to go on if not
        slot = self.template(array)
        if slot.n not in self.varying:
            return  # a constant's value: always the same
        step = Step(_guard, (slot, convert, value, site), {}, None, kind="guard")
        self.steps.append(step)

    def value_read_result(self, call: Any, value: Any) -> None:
        frame = user_frame()
        self._refuse(f"{getattr(call, '__name__', call)}()", site_of(frame))

    def refuse_feature(self, what: str, why: str = "") -> None:
        """The engine met something a plan cannot replay (engine.tracing calls this)."""
        site = site_of(user_frame())
        if what == ".numpy()":
            self._refuse(what, site)
            return
        why = why or (
            "it runs Python during the step, and pg.compile replays the step's NumPy calls "
            "only. Move it outside the compiled function"
        )
        reason = f"{what} at {site or 'an unknown line'} inside {self.name}: {why}, or compile "
        reason += "with fallback='eager'"
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
            raise Diverged(site)
        raise CompileError(
            f"pg.compile: a check inside pathgrad at {site} read {expected!r} when the step was "
            f"traced and reads {now!r} now, after the plan changed parameters or drew random "
            "numbers, so it cannot go back; run this call eagerly (the function's .eager)"
        )


class RecordingStream:
    """Stands for a generator's NumPy stream while tracing: each draw is recorded."""

    def __init__(self, generator: Any, stream: Any) -> None:
        self._generator, self._stream = generator, stream

    def __getattr__(self, method: str) -> Any:
        trace = _active
        if trace is None or trace.thread != get_ident():
            return getattr(self._stream, method)  # another thread's draw: not this step's

        def draw(*args: Any, **kwargs: Any) -> Any:
            self._generator.numpy = self._stream  # the real stream draws, then we stand in again
            try:
                return trace.draw(self._generator, method, args, kwargs)
            finally:
                self._generator.numpy = self

        return draw


def slots_in(template: Any) -> list:
    return [v for v in tree_leaves(template) if type(v) is Slot]


def _own_file(filename: str) -> bool:
    return filename.startswith(PACKAGE_DIR) or filename.startswith(NUMPY_DIR)


def _reading_frame() -> Any:
    """The frame that asked for the value (past the Traced method and _read_value)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back
    return frame


def user_frame() -> Any:
    frame = sys._getframe(1)
    while frame is not None and _own_file(frame.f_code.co_filename):
        frame = frame.f_back
    return frame


def site_of(frame: Any) -> str:
    if frame is None:
        return ""
    return f"{frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.f_lineno}"


# NumPy's makers of arrays, patched while tracing: a converter would hand back a plain array
# (a copy or a view) of a Traced one, which the plan could not follow; a new array (np.zeros
# filled in by an index later) is made a Traced constant, so that what is written into it
# afterwards is recorded too
MAKERS = (
    "array asarray asanyarray ascontiguousarray zeros ones empty full zeros_like ones_like "
    "empty_like full_like arange eye identity linspace"
).split()
_CONVERTERS = frozenset(("array", "asarray", "asanyarray", "ascontiguousarray"))


def traced_maker(name: str, original: Any) -> Any:
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
        if trace is None or trace.thread != get_ident():
            return original(*args, **kwargs)
        if _contains_traced(args) or _contains_traced(kwargs):
            if name in _CONVERTERS and type(args[0]) is Traced and passes_through(args[0], kwargs):
                return args[0]  # already an array of the kind asked: NumPy returns it as it is
            return _record(original, args, kwargs)
        result = original(*args, **kwargs)
        if type(result) is np.ndarray and not (args and result is args[0]):
            made = trace.view_of_slot(result)  # as_strided makes its view through np.asarray
            return trace.constant(result) if made is None else made
        return result

    return make


# NumPy's module-level draws (its global random state), refused while tracing: a plan would
# replay the value of the traced call's draw (pathgrad's generators are redrawn instead)
RANDOM_DRAWS = (
    "rand randn random random_sample ranf sample randint random_integers choice permutation "
    "shuffle normal standard_normal uniform exponential poisson binomial beta gamma laplace "
    "logistic lognormal multinomial multivariate_normal dirichlet geometric"
).split()


def refused_draw(name: str, original: Any) -> Any:
    def draw(*args: Any, **kwargs: Any) -> Any:
        trace = _active
        if trace is not None and trace.thread == get_ident():
            trace.refuse_feature(
                f"np.random.{name}()",
                "a draw from NumPy's global random state would be replayed as this call's "
                "numbers (a plan draws afresh from pathgrad's generators only). Draw with "
                "pg.rand, pg.randn, pg.randint or a pg.Generator, or pass the numbers in",
            )
        return original(*args, **kwargs)

    return draw


def numpy_patches() -> list:
    """(module, name, NumPy's function, what a trace puts in its place) for NumPy's makers and
    its global random draws: set while a step is traced, restored after."""
    patches = [(np, name, getattr(np, name), traced_maker) for name in MAKERS]
    patches += [(np.random, name, getattr(np.random, name), refused_draw) for name in RANDOM_DRAWS]
    return [(module, name, f, wrap(name, f)) for module, name, f, wrap in patches]


class Diverged(Exception):
    """A check inside pathgrad read otherwise than when the plan was traced, before the plan
    changed anything: the call runs by another plan, or is traced anew."""


def _forget(roots: dict, key: int, _: Any) -> None:
    roots.pop(key, None)


def memory_owner(array: Any) -> Any:
    """The array owning `array`'s memory: writes through one view reach all."""
    while True:
        base = array.base
        if not isinstance(base, np.ndarray):  # as_strided's holder, a memoryview, or none
            base = getattr(base, "base", None) if base is not None else None
            if not isinstance(base, np.ndarray):
                return array
        array = base


def _extent(pointer: int, shape: tuple, strides: tuple, itemsize: int) -> tuple | None:
    """The first and one-past-last byte an array of this layout reads (None: it is empty)."""
    if 0 in shape:
        return None
    low = pointer + sum((n - 1) * s for n, s in zip(shape, strides) if s < 0)
    high = pointer + sum((n - 1) * s for n, s in zip(shape, strides) if s > 0) + itemsize
    return low, high


def _broadcast_strides(shape: tuple, strides: tuple, target: tuple) -> tuple | None:
    """The strides np.broadcast_to(an array of `shape` and `strides`, target) has (None: it
    cannot), worked out without the array."""
    if len(target) < len(shape):
        return None
    lead = len(target) - len(shape)
    result = [0] * lead
    for size, stride, want in zip(shape, strides, target[lead:]):
        if size == 1:  # NumPy gives a length-1 axis stride 0, broadcast or not
            result.append(0)
        elif size == want:
            result.append(stride)
        else:
            return None
    return tuple(result)


def outs_of(step: Step) -> tuple:
    out = step.out
    return () if out is None else (out if type(out) is tuple else (out,))

"""The compiled function: a cache of plans by signature, traced on a miss, replayed on a hit."""

from __future__ import annotations

import functools
import threading
import warnings
from collections import OrderedDict
from threading import get_ident
from typing import Any, NamedTuple

import numpy as np

from pathgrad.autodiff import grad_mode
from pathgrad.compiled import tracing
from pathgrad.compiled.plan import build_plan, tensor_arrays
from pathgrad.compiled.tracing import (
    CompileError,
    Diverged,
    Live,
    RecordingStream,
    Trace,
    Traced,
    numpy_patches,
    tree_map,
    unwrap,
)
from pathgrad.compiled.world import (
    World,
    refuse_outside_hooks,
    refuse_writes_outside,
    write_back,
)
from pathgrad.tensor import Tensor

_TRACING = threading.Lock()
# arguments that hold no module or optimiser (the common step(x, y)): not searched each call
_PLAIN_ARGUMENTS = frozenset((Tensor, int, float, bool, str, type(None)))

# plans kept for one signature, each valid where its checks inside pathgrad read as traced
_PLANS_PER_SIGNATURE = 4


class CacheEntry(NamedTuple):
    """One trace: its signature, why it was made, and its plan (None: runs eagerly)."""

    signature: Any
    reason: str
    plan: Any
    steps: int


class CacheInfo(NamedTuple):
    """`fn.cache_info()`: traces made, calls replayed, calls run eagerly (fallback="eager"), and
    each plan kept: why it was traced, its NumPy calls, whether it runs eagerly."""

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
        self._world: World | None = None
        self._traces = self._replays = self._eager_calls = 0
        self._warned = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        active = tracing._active
        if active is not None and active.thread == get_ident():
            return self.eager(*args, **kwargs)  # called inside another step's trace: part of it
        if self._world is None:
            self._world = World(self.eager)
        plain_arguments = not kwargs and all(type(a) in _PLAIN_ARGUMENTS for a in args)
        if not plain_arguments and self._world.grow((args, kwargs), tensors=False):
            self._cache.clear()  # a module or optimiser passed in: signatures now cover it
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
            except Diverged as error:  # before the plan changed anything: try the next
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
            tuple([_settings(group, world.live) for group in world.groups]),
            tuple([_state_keys(optimizer.state) for optimizer in world.optimizers]),
            tuple([p._grad is None for p in world.params]),
        )

    def _trace(self, signature: Any, args: tuple, kwargs: dict, reason: str) -> Any:
        trace = Trace(getattr(self.eager, "__qualname__", "the function"), self.fallback)
        with _TRACING:  # one trace at a time: NumPy's makers are patched process-wide
            try:
                return self._trace_alone(trace, signature, args, kwargs, reason)
            finally:
                trace.close()

    def _trace_alone(
        self, trace: Trace, signature: Any, args: tuple, kwargs: dict, reason: str
    ) -> Any:
        world = self._world
        restore: list = []
        saved_streams = [(g, g.numpy) for g in world.generators]
        patches = numpy_patches()
        rates = [r for r in world.live_rates() if id(r[2]) in world.live]
        saved_rates = [group["lr"] for _, _, group in rates]
        lives: list = []  # the Live rates put in their place
        # every tensor the step may touch, with where the plan finds it: an argument's path,
        # or the tensor itself (a parameter, a buffer, a .grad, optimiser state)
        owners = [(t, ("argument", path)) for path, t in tensor_paths((args, kwargs))]
        owners += world.tensors()
        flags = [m.training for m in world.modules]
        start = {}
        for t, owner in owners:
            base = t if t._base is None else t._base
            start[id(t)] = (t, owner, t._grad, base, base._version_count)
        try:
            refuse_outside_hooks(trace, world, owners)
            for t, owner in owners:
                if type(t._data) is not Traced:
                    restore.append((t, t._data))
                    trace.add_input(t, owner)
            for t in world.fixed:  # no signature covers their shapes: each replay checks them
                trace.shaped.add(t._data.slot)
            for g, stream in saved_streams:
                g.numpy = RecordingStream(g, stream)
            for module, name, _, patched in patches:
                setattr(module, name, patched)
            for optimizer, i, group in rates:
                group["lr"] = Live(group["lr"], ("group", optimizer, i, "lr"))
                lives.append(group["lr"])
            grad_mode.engine.tracing = trace.refuse_feature
            tracing._active = trace
            result = self.eager(*args, **kwargs)
        except BaseException:
            tracing._active = None
            _leave_plain(world, owners)  # a refusal or the step's own error: no Traced left
            raise
        finally:
            tracing._active = None
            grad_mode.engine.tracing = None
            rescheduled = False
            for (_, _, group), rate, live in zip(rates, saved_rates, lives):
                if group["lr"] is live:
                    group["lr"] = rate
                else:  # the step set a new rate (a scheduler's step() inside it): kept
                    group["lr"] = float(group["lr"])
                    rescheduled = True
            for module, name, original, _ in patches:
                setattr(module, name, original)
            for g, stream in saved_streams:
                if isinstance(g.numpy, RecordingStream):
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
                        t._data = unwrap(data)
        self._traces += 1
        try:
            if rescheduled:
                trace.refuse_feature(
                    "setting an optimiser's learning rate",
                    "a replay would not set it again (a scheduler's step() is Python). Call it "
                    "outside the compiled function",
                )
            refuse_writes_outside(trace)
        except CompileError:
            _leave_plain(world, owners)
            raise
        if trace.unreplayable is not None:
            note = f"{reason} (runs eagerly: {trace.unreplayable})"
            self._remember(CacheEntry(signature, note, None, 0))
            if not self._warned:
                self._warned = True
                warnings.warn(f"pg.compile: {trace.unreplayable}; it runs eagerly", stacklevel=3)
            _leave_plain(world, owners)
            return plain(result)
        writes = write_back(trace, world, start, ends, flags)
        output = tensor_arrays(result)
        plan, count = build_plan(trace, output, writes)
        self._remember(CacheEntry(signature, reason, plan, count))
        if self._traces == 2 * self.max_cache:  # as torch.compile's recompile limit warns
            warnings.warn(
                f"pg.compile: {trace.name} has been traced {self._traces} times (the last: "
                f"{reason}); a step whose signature changes at every call runs slower than "
                "eagerly. Pass numbers that change between calls as tensors, or see "
                ".cache_info()",
                stacklevel=3,
            )
        return plain(result)

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


def _settings(group: dict, live: set) -> tuple:
    """An optimiser's parameter group's settings (momentum, ...), hashable; the learning rate
    too unless the plan reads it live."""
    skip = ("params", "lr") if id(group) in live else ("params",)
    return tuple([(k, _describe(v)) for k, v in group.items() if k not in skip])


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


def tensor_paths(value: Any, path: tuple = ()) -> Any:
    kind = type(value)
    if kind is Tensor:
        yield path, value
    elif kind is tuple or kind is list:
        for i, v in enumerate(value):
            yield from tensor_paths(v, path + (i,))
    elif kind is dict:
        for k, v in value.items():
            yield from tensor_paths(v, path + (k,))


def _leave_plain(world: World, owners: list) -> None:
    """Every tensor the step reached (and the .grad and state it made) with plain arrays, after
    a trace that no plan came of: the tensors go on eagerly."""
    # world.tensors() now: the state and .grad the step made are among them
    for t in [t for t, _ in owners] + [t for t, _ in world.tensors()]:
        for holder in (t, t._grad):
            if holder is not None and type(holder._data) is Traced:
                holder._data = unwrap(holder._data)


def plain(value: Any) -> Any:
    """The first call's result with its arrays plain again (no Traced left in user hands)."""
    return tree_map(_plain_tensor, value)


def _plain_tensor(value: Any) -> Any:
    if type(value) is Tensor and type(value._data) is Traced:
        value._data = unwrap(value._data)
    return value


def compile(  # noqa: A001 (PyTorch's name)
    fn: Any = None,
    *,
    fallback: str | None = None,
    cache_size: int = 8,
    fullgraph: bool = False,
    dynamic: Any = None,
    backend: Any = None,
    mode: Any = None,
    options: Any = None,
    disable: bool = False,
) -> Any:
    """`fn` traced on its first call with each signature and replayed after as a flat plan of
    NumPy calls (see the README's "Compiled steps"). Usable as `@pg.compile` or
    `@pg.compile(fallback="eager")`. torch.compile's other arguments are taken so that its
    callers run: `disable=True` returns `fn` itself; `fullgraph`, `dynamic`, `backend`, `mode`
    and `options` choose among PyTorch's compilers and change nothing here.

    >>> step = pg.compile(lambda x: (x * 2).sum())
    >>> step(pg.ones(3)), step(pg.ones(3))  # traced, then replayed
    (tensor(6.), tensor(6.))
    """
    if fn is None:
        return lambda f: compile(f, fallback=fallback, cache_size=cache_size, disable=disable)
    if not callable(fn):
        raise TypeError(f"pg.compile: expects a function, got {type(fn).__name__}")
    if disable:
        return fn
    return CompiledFunction(fn, fallback, cache_size)

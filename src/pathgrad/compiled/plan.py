"""From a trace to a plan: prune what nothing uses, leave broadcasts to NumPy, give ufunc
results registers kept between replays, and write the steps out as one Python function whose
lines are the NumPy calls."""

from __future__ import annotations

import builtins
import operator
from typing import Any, NamedTuple

import numpy as np

from pathgrad.autodiff import versions
from pathgrad.compiled.tracing import (
    Live,
    Slot,
    Step,
    Trace,
    memory_root,
    outs_of,
    plain_asarray,
    slots_in,
    unwrap,
)
from pathgrad.tensor import Tensor, from_array


def _elide_broadcasts(trace: Trace, steps: list) -> None:
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
        if np.broadcast_shapes(*shapes) == trace.arrays[outs_of(step)[0]].shape:
            step.args = tuple(args)


def _prune(trace: Trace, output_slots: list, write_slots: list) -> list:
    """The steps that make the step's result, write-backs and state changes, in order."""
    roots = [memory_root(a) for a in trace.arrays]
    needed = set(output_slots) | set(write_slots)
    live_roots = {roots[n] for n in needed} | {roots[n] for n in trace.inputs}
    kept = []
    for step in reversed(trace.steps):
        if step.kind in ("draw", "guard"):
            keep = True
        elif step.writes is not None:
            keep = any(roots[n] in live_roots for n in step.writes)
        else:
            keep = any(n in needed for n in outs_of(step))
        if keep:
            kept.append(step)
            for slot in slots_in((step.args, step.kwargs)):
                needed.add(slot.n)
                live_roots.add(roots[slot.n])
    kept.reverse()
    return kept


class _Writer:
    """Writes the plan as Python source: one line per NumPy call, names bound in `namespace`."""

    def __init__(self) -> None:
        self.namespace: dict = {
            "plain_asarray": plain_asarray,
            "_from_array": from_array,
            "_result": _result,
        }
        self.slot_names: dict = {}
        self.lines: list = []
        self.bound: dict = {}  # id of a bound object -> its name (the namespace keeps it alive)
        self.buffer_specs: dict = {}  # name -> _Buffer
        self.register_sizes: list = []

    def bind(self, value: Any, prefix: str = "K") -> str:
        name = self.bound.get(id(value))  # one name per object: a ufunc used 40 times, once
        if name is None:
            name = self.bound[id(value)] = f"{prefix}{len(self.namespace)}"
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
        if kind is Live:  # read at every replay, or computed again from what is
            source = value.source
            if source[0] == "group":
                _, optimizer, index, key = source
                return f"{self.bind(optimizer, 'O')}.param_groups[{index}][{key!r}]"
            symbol, left, right = source
            return f"({self.expr(left)} {symbol} {self.expr(right)})"
        if kind is tuple:
            inner = ", ".join(self.expr(v) for v in value)
            return f"({inner},)" if value else "()"
        if kind is list:
            return "[" + ", ".join(self.expr(v) for v in value) + "]"
        if kind is dict:
            return (
                "{" + ", ".join(f"{self.expr(k)}: {self.expr(v)}" for k, v in value.items()) + "}"
            )
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
        """Where the plan finds a tensor (an expression it can also assign to, but for an
        argument or a bound tensor): an argument by its path, a .grad through its tensor,
        optimiser state through the state dict, a module's buffer through its table."""
        if owner[0] == "argument":
            return "AK" + "".join(f"[{p!r}]" for p in owner[1])
        if owner[0] == "grad":
            return self.owner(owner[1]) + "._grad"
        if owner[0] == "state":
            _, optimizer, p, key = owner
            return f"{self.bind(optimizer, 'O')}.state[{self.bind(p, 'T')}][{key!r}]"
        if owner[0] == "table":
            _, module, table, key = owner
            return f"{self.bind(module, 'M')}.{table}[{key!r}]"
        return self.bind(owner[1], "T")

    def call(self, step: Step) -> str:
        args = [self.expr(a) for a in step.args]
        if step.call is operator.getitem:
            return f"{args[0]}[{args[1]}]"
        keywords = [f"{k}={self.expr(v)}" for k, v in step.kwargs.items()]
        text = f"{self.bind(step.call, 'F')}({', '.join(args + keywords)})"
        return f"plain_asarray({text})" if step.as_array else text


class _Buffer(NamedTuple):
    """An array the plan keeps between replays: a view of one of its registers (flat memory
    that slots whose lives do not overlap take in turn), made at its first replay (a plan that
    is never replayed, as a training loop's first step's, costs no memory)."""

    register: int
    shape: tuple
    dtype: Any
    strides: tuple


class _Registered(NamedTuple):
    """A slot's buffer and the sizes of the plan's registers (to make them)."""

    buffer: _Buffer
    sizes: list


def _reusable_outputs(trace: Trace, kept: list, escaping: list) -> dict:
    """Arrays the plan keeps from one replay to the next and writes again (through `out=`),
    for the slots that can take one: a ufunc's or a reduction's fresh result whose memory
    nothing outside the plan holds (not the result, not a .grad or state it leaves, not an
    input's). Slots whose lives do not overlap share one, as registers are allocated, so the
    plan holds about what eager holds at its peak; a slot's life ends at the last step that
    reads or writes its memory (through any view of it)."""
    roots = [memory_root(a) for a in trace.arrays]
    held = {roots[n] for n in escaping} | {roots[n] for n in trace.inputs}
    last_use: dict = {}
    for i, step in enumerate(kept):
        for slot in slots_in((step.args, step.kwargs)):
            last_use[roots[slot.n]] = i
        for n in outs_of(step) + (step.writes or ()):
            last_use[roots[n]] = max(last_use.get(roots[n], i), i)
    sizes: list = []  # each register's size in bytes: the most any slot it held needs
    free: list = []  # registers no live slot uses
    ends: dict = {}  # register -> the last step its current slot is used in
    buffers = {}
    for i, step in enumerate(kept):
        for register, end in list(ends.items()):
            if end < i:
                free.append(register)
                del ends[register]
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
        traced = unwrap(trace.arrays[step.out])
        if traced.dtype.hasobject:
            continue  # np.frompyfunc's objects: memory of pointers, never raw bytes
        if min(traced.strides, default=0) < 0:
            continue
        # the layout NumPy chose for the result (it follows the inputs': a transposed
        # input gives a transposed result), kept, so that later reductions add in eager's order
        layout = (traced.shape, traced.dtype, traced.strides)
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
        buffers[step.out] = _Buffer(register, *layout)
        ends[register] = last_use.get(roots[step.out], i)
    for n, buffer in buffers.items():
        buffers[n] = _Registered(buffer, sizes)
    return buffers


def build_plan(trace: Trace, output: Any, writes: list) -> tuple:
    """The plan of a trace, as a `_Plan`, and the number of NumPy calls it makes: its inputs
    read, its steps in order (each local let go after its last use, the .grad it replaces let
    go before it changes state), its write-backs, and its result."""
    steps = trace.steps
    _elide_broadcasts(trace, steps)
    output_slots = [s.n for s in slots_in(_out_template(trace, output))]
    write_slots = [w[3].n for w in writes if w[3] is not None]
    kept = _prune(trace, output_slots, write_slots)
    reusable = _reusable_outputs(trace, kept, output_slots + write_slots)
    roots = [memory_root(a) for a in trace.arrays]
    written = {roots[n] for step in kept if step.writes for n in step.writes}
    w = _Writer()
    needed = {s.n for step in kept for s in slots_in((step.args, step.kwargs))}
    needed.update(output_slots, write_slots)
    for slot, (owner, _, _) in trace.inputs.items():
        if slot in needed:
            w.slot_names[slot] = f"s{slot}"
            w.lines.append(f"s{slot} = {w.owner(owner)}._data")
    calls = 0
    release_at = None
    state_roots = {roots[n] for n in trace.inputs}
    changed = False  # whether the plan has changed state (or drawn) by this step
    dying = _last_uses(kept, output_slots + write_slots)
    for i, step in enumerate(kept):
        gone = [w.slot_names[n] for n in dying.get(i - 1, ()) if w.slot_names.get(n, "K")[0] == "s"]
        if gone:
            w.lines.append("del " + ", ".join(gone))
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
                w.lines.append(f's{step.out} = {constant}.copy(order="K")')
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
        outs = outs_of(step)
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
        f"{w.owner(owner)} = None"
        for kind, owner, _, slot in writes
        if kind == "tensor"
        and owner[0] == "grad"
        and slot is not None
        and w.owner(owner) not in read
    ]
    at = len(w.lines) if release_at is None else release_at
    w.lines[at:at] = released
    _write_back_lines(w, trace, writes)
    w.lines.append(f"return {_out_expr(w, trace, output)}")
    source = "def plan(A, KW):\n" + _prologue(w) + "".join(f"    {line}\n" for line in w.lines)
    return _Plan(source, w.namespace, f"<pg.compile plan of {trace.name}>"), calls


def _last_uses(kept: list, kept_to_the_end: list) -> dict:
    """Step index -> the slots last used there: after it the plan lets their arrays go (del),
    as eager's reference counts do; the result's and the write-backs' slots are kept."""
    last: dict = {}
    for i, step in enumerate(kept):
        for n in [s.n for s in slots_in((step.args, step.kwargs))] + list(outs_of(step)):
            last[n] = i
        for n in step.writes or ():
            last[n] = i
    for n in kept_to_the_end:
        last[n] = len(kept)
    dying: dict = {}
    for n, i in last.items():
        dying.setdefault(i, []).append(n)
    return dying


def _write_back_lines(w: _Writer, trace: Trace, writes: list) -> None:
    """The lines that leave tensors, optimiser state and modules as the eager step left them."""
    bumped = 0
    for kind, owner, key, slot in writes:
        target = w.owner(owner)
        value = "None" if slot is None else f"_from_array({_fresh(w, trace, slot)})"
        if kind == "data":
            w.lines.append(f"{target}._data = {w.expr(slot)}")
        elif kind == "tensor":  # a new .grad, optimiser state or buffer, or none
            w.lines.append(f"{target} = {value}")
        elif kind == "training":
            w.lines.append(f"{target}.train({key})")
        else:  # "version": in-place changes counted, as eager counts them
            w.lines.append(f"{target}._version_count += {key}")
            bumped += key
    if bumped:
        w.namespace["_versions"] = versions
        w.lines.append(f"_versions.epoch += {bumped}")


def _prologue(w: _Writer) -> str:
    """The plan's first lines: its arguments together, and its registers made at its first
    replay."""
    prologue = "    AK = (A, KW)\n"
    if w.buffer_specs:
        namespace, specs, sizes = w.namespace, w.buffer_specs, w.register_sizes

        def allocate() -> None:
            registers = [np.empty(size, np.uint8) for size in sizes]
            for name, b in specs.items():
                register = registers[b.register]
                namespace[name] = np.ndarray(b.shape, b.dtype, register, 0, b.strides)
            specs.clear()

        namespace["_allocate"] = allocate
        prologue += "    if B0 is None:\n        _allocate()\n"
    return prologue


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


def _result(array: Any, name: str) -> Tensor:
    """A tensor of a replay's result: no graph, and marked, so that a backward on it says why."""
    result = from_array(array)
    result._compiled_from = name
    return result


def _fresh(w: _Writer, trace: Trace, slot: Slot) -> str:
    """A slot's array for a tensor the plan hands out: a constant is copied, so that a change
    the user makes to it in place cannot reach the next replay's."""
    text = w.expr(slot)
    return text if slot.n in trace.varying else f"{text}.copy(order='K')"


def _out_template(trace: Trace, output: Any) -> Any:
    kind = type(output)
    if kind is Out:
        output.data = trace.template(output.data)
        return output.data
    if kind is tuple or kind is list:
        return kind(_out_template(trace, v) for v in output)
    if kind is dict:
        return {k: _out_template(trace, v) for k, v in output.items()}
    return None


def _out_expr(w: _Writer, trace: Trace, output: Any) -> str:
    kind = type(output)
    if kind is Out:
        return f"_result({_fresh(w, trace, output.data)}, {trace.name!r})"
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


def tensor_arrays(value: Any) -> Any:
    """The step's result with each tensor marked for the plan (("tensor", its array))."""
    kind = type(value)
    if kind is Tensor:
        return Out(value._data, value._requires_grad)
    if kind is tuple or kind is list:
        return kind(tensor_arrays(v) for v in value)
    if kind is dict:
        return {k: tensor_arrays(v) for k, v in value.items()}
    return value


class Out:
    """A tensor in the step's result: its array (a Slot once templated)."""

    def __init__(self, data: Any, requires_grad: bool) -> None:
        self.data, self.requires_grad = data, requires_grad

"""From a trace to a plan: prune what nothing uses, leave broadcasts to NumPy, drop the copies
a trace adds, place ufunc results in one arena kept between replays, and write the steps out as
one Python function whose lines are the NumPy calls."""

from __future__ import annotations

import builtins
import operator
import zlib
from typing import Any, NamedTuple

import numpy as np

from pathgrad import versions
from pathgrad.compiled.tracing import (
    Live,
    Slot,
    Step,
    Trace,
    _guard,
    outs_of,
    plain_asarray,
    slots_in,
    tree_map,
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
        shapes = [trace.info[a.n].shape if type(a) is Slot else np.shape(a) for a in args]
        if np.broadcast_shapes(*shapes) == trace.info[outs_of(step)[0]].shape:
            step.args = tuple(args)


def _prune(trace: Trace, output_slots: list, write_slots: list, roots: list) -> list:
    """The steps that make the step's result, write-backs and state changes, in order."""
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
        self.free_locals: list = []  # local names whose slots are dead, to be used again
        self.locals_made = 0
        self.lines: list = []
        self.bound: dict = {}  # id of a bound object -> its name (the namespace keeps it alive)
        self.buffers: dict = {}  # _Buffer -> its name (slots overwriting one share it)
        self.arena = 0
        self.allocate = ""  # the source of the function making the arena, if any

    def local(self, n: int) -> str:
        """A local name for slot n: one a dead slot had, else a new one (a plan of 500 steps
        keeps a small frame and code object)."""
        if self.free_locals:
            name = self.free_locals.pop()
        else:
            name, self.locals_made = f"s{self.locals_made}", self.locals_made + 1
        self.slot_names[n] = name
        return name

    def bind(self, value: Any, prefix: str = "K") -> str:
        name = self.bound.get(id(value))  # one name per object: a ufunc used 40 times, once
        if name is None:
            name = self.bound[id(value)] = f"{prefix}{len(self.namespace)}"
            self.namespace[name] = value
        return name

    def expr(self, value: Any) -> str:
        kind = type(value)
        if kind is _Registered:
            name = self.buffers.get(value.buffer)
            if name is None:
                name = self.buffers[value.buffer] = f"B{len(self.buffers)}"
                self.namespace[name] = None
                self.arena = value.arena
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
    """An array the plan keeps between replays: a view at `offset` bytes into its arena (one
    block of memory that slots whose lives do not overlap take in turn), made at its first
    replay (a plan that is never replayed, as a training loop's first step's, costs none)."""

    offset: int
    shape: tuple
    dtype: Any
    strides: tuple


class _Registered(NamedTuple):
    """A slot's buffer and the size of the plan's arena in bytes (to make it)."""

    buffer: _Buffer
    arena: int


class _Life:
    """Slots that one block of the arena holds in turn: a ufunc's result and the results that
    overwrite it in place (`last`, the latest), from the step that makes the first to the last
    that uses any."""

    __slots__ = ("last", "layout", "start", "end", "nbytes", "offset")

    def __init__(self, slot: int, layout: tuple, start: int, end: int, nbytes: int) -> None:
        self.last, self.layout, self.start, self.end = slot, layout, start, end
        self.nbytes, self.offset = nbytes, 0


_ALIGN = 64  # bytes between the arena's start and a block's: aligned for any dtype


def _last_touches(kept: list) -> dict:
    """Slot -> the last step that reads, makes or writes it."""
    last: dict = {}
    for i, step in enumerate(kept):
        for slot in slots_in((step.args, step.kwargs)):
            last[slot.n] = i
        for n in outs_of(step) + (step.writes or ()):
            last[n] = i
    return last


def _last_use_of_memory(last: dict, roots: list) -> dict:
    """Memory root -> the last step that reads or writes that memory (through any view)."""
    last_use: dict = {}
    for n, i in last.items():
        if last_use.get(roots[n], -1) < i:
            last_use[roots[n]] = i
    return last_use


def _reusable_outputs(
    trace: Trace, kept: list, escaping: list, roots: list, last_use: dict
) -> dict:
    """Arrays the plan keeps from one replay to the next and writes again (through `out=`),
    for the slots that can take one: a ufunc's or a reduction's fresh result whose memory
    nothing outside the plan holds (not the result, not a .grad or state it leaves, not an
    input's). They lie in one arena: an elementwise ufunc overwrites an input it reads for the
    last time where their layouts match (NumPy computes an exact overlap in place), and slots
    whose lives do not overlap share memory, placed largest first at the lowest offset free
    through their life (greedy by size, as TFLite's planner), so the plan holds about what
    eager holds at its peak. A slot's life ends at the last step that reads or writes its
    memory (through any view of it)."""
    held = {roots[n] for n in escaping} | {roots[n] for n in trace.inputs}
    lives: dict = {}  # slot -> its _Life
    for i, step in enumerate(kept):
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
        traced = trace.info[step.out]
        if traced.dtype.hasobject:
            continue  # np.frompyfunc's objects: memory of pointers, never raw bytes
        if min(traced.strides, default=0) < 0:
            continue
        # the layout NumPy chose for the result (it follows the inputs': a transposed
        # input gives a transposed result), kept, so that later reductions add in eager's order
        layout = (traced.shape, traced.dtype, traced.strides)
        end = last_use.get(roots[step.out], i)
        life = _dying_input(step, lives, i, layout)
        if life is None:
            life = _Life(step.out, layout, i, end, max(traced.nbytes, 1))
        else:
            life.last = step.out
            life.end = end
        lives[step.out] = life
    blocks = list({id(life): life for life in lives.values()}.values())
    blocks.sort(key=lambda b: (-b.nbytes, b.start))
    placed: list = []
    arena = 0
    for block in blocks:
        offset = 0
        taken = sorted(
            (p.offset, p.offset + p.nbytes)
            for p in placed
            if p.start <= block.end and block.start <= p.end
        )
        for low, high in taken:
            if offset + block.nbytes <= low:
                break
            offset = max(offset, -(-high // _ALIGN) * _ALIGN)
        block.offset = offset
        placed.append(block)
        arena = max(arena, offset + block.nbytes)
    return {n: _Registered(_Buffer(life.offset, *life.layout), arena) for n, life in lives.items()}


def _dying_input(step: Step, lives: dict, i: int, layout: tuple) -> _Life | None:
    """The block of an elementwise ufunc's input whose memory this step reads last, when it
    is laid out exactly as the result (which can then overwrite it), else None."""
    if not isinstance(step.call, np.ufunc) or step.call.signature is not None:
        return None
    for a in step.args:
        life = lives.get(a.n) if type(a) is Slot else None  # a block's own view, not a view of it
        if life is not None and life.last == a.n and life.end == i:
            if life.layout == layout:
                return life
    return None


def build_plan(trace: Trace, output: Any, writes: list) -> tuple:
    """The plan of a trace, as a `_Plan`, and the number of NumPy calls it makes: its inputs
    read, its steps in order (each local let go after its last use, the .grad it replaces let
    go before it changes state), its write-backs, and its result."""
    steps = trace.steps
    _elide_broadcasts(trace, steps)
    output_slots = [s.n for s in slots_in(_out_template(trace, output))]
    write_slots = [w[3].n for w in writes if w[3] is not None]
    roots = [info.root for info in trace.info]
    kept = _prune(trace, output_slots, write_slots, roots)
    last = _last_touches(kept)
    last_use = _last_use_of_memory(last, roots)
    written = {roots[n] for step in kept if step.writes for n in step.writes}
    copied = _elide_copies(trace, kept, roots, last_use, written)
    escaping = output_slots + write_slots + copied
    reusable = _reusable_outputs(trace, kept, escaping, roots, last_use)
    w = _Writer()
    needed = {s.n for step in kept for s in slots_in((step.args, step.kwargs))}
    needed.update(output_slots, write_slots)
    for slot, (owner, _, _) in trace.inputs.items():
        if slot in needed:
            w.lines.append(f"{w.local(slot)} = {w.owner(owner)}._data")
            if slot in trace.shaped:  # a tensor from the closure: another shape, another plan
                site = "the shape of a tensor the step reads"
                check = (Slot(slot), np.shape, trace.info[slot].shape, site, True)
                w.lines.append(w.call(Step(_guard, check, {}, None)))
    calls = 0
    release_at = None
    state_roots = {roots[n] for n in trace.inputs}
    changed = False  # whether the plan has changed state (or drawn) by this step
    dying = _dying(last, len(kept), output_slots + write_slots)
    # the memory a del lets go of: not the arena's or an input's, which outlive the replay
    lasting = {roots[n] for n in reusable} | state_roots
    for i, step in enumerate(kept):
        ended = [n for n in dying.get(i - 1, ()) if w.slot_names.get(n, "K")[0] == "s"]
        gone = [w.slot_names[n] for n in ended if roots[n] not in lasting]
        if gone:
            w.lines.append("del " + ", ".join(gone))
        w.free_locals.extend(w.slot_names[n] for n in ended)
        if step.kind == "guard":
            step.args = step.args + (not changed,)
        elif not changed and (
            step.kind == "draw"
            or (step.writes and any(roots[n] in state_roots for n in step.writes))
        ):
            changed, release_at = True, len(w.lines)
        if step.kind == "constant":
            array = trace.constants[step.out]
            if roots[step.out] not in written:
                w.slot_names[step.out] = w.bind(array)
            elif _all_zero_bytes(array):  # np.zeros made to be filled: made again, not kept
                zeros = f"{w.bind(np.zeros)}({array.shape!r}, {w.bind(array.dtype)})"
                w.lines.append(f"{w.local(step.out)} = {zeros}")
            else:
                w.lines.append(f'{w.local(step.out)} = {w.bind(array)}.copy(order="K")')
            continue
        if step.kind == "alias":  # a copy of memory nothing else will read: the memory
            w.lines.append(f"{w.local(step.out)} = {w.expr(step.args[0])}")
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
        names = [w.local(n) for n in outs]
        if type(step.out) is tuple:
            w.lines.append(", ".join(names) + f", = {text}")
        else:
            w.lines.append(f"{names[0]} = {text}")
        for n in outs:  # a view the step made writable (NumPy hands diagonals out read-only)
            if n in trace.read_only and trace.read_only[n].flags.writeable:
                w.lines.append(f"{w.slot_names[n]}.flags.writeable = True")
    # a .grad the plan replaces and never reads is let go before the plan changes anything
    # (after its last check that can still send the call elsewhere), as zero_grad lets it go
    read = {
        w.owner(owner)
        for slot, (owner, _, _) in trace.inputs.items()
        if owner[0] == "grad" and slot in needed
    }
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
    body = _prologue(w) + "".join(f"    {line}\n" for line in w.lines)
    source = w.allocate + "def plan(A, KW):\n" + body
    return _Plan(source, w.namespace, f"<pg.compile plan of {trace.name}>"), calls


def _elide_copies(trace: Trace, kept: list, roots: list, last_use: dict, written: set) -> list:
    """`x.copy()` of a result `x` that owns its memory and is read for the last time there is
    `x` itself: the copy eager makes only because a traced array is a view (a .grad must alias
    nothing, backward.py). The step becomes an alias; returns the slots whose memory it hands
    on, to be made afresh at each replay (not kept in the arena)."""
    made = {  # memory each replay makes anew: results, and constants copied to be written
        step.out
        for step in kept
        if type(step.out) is int
        and (
            step.kind in ("call", "draw")
            or (step.kind == "constant" and roots[step.out] in written)
        )
    }
    copied = []
    for i, step in enumerate(kept):
        if step.call is not np.ndarray.copy or step.kind != "call" or len(step.args) != 1:
            continue
        source = step.args[0]
        if type(source) is not Slot or source.n not in made or last_use[roots[source.n]] != i:
            continue
        traced = trace.info[source.n]
        if not traced.owns or step.kwargs.get("order", "C") not in "CK":
            continue  # a view: its copy is new memory, perhaps laid out otherwise
        copy = trace.info[step.out]
        if copy.strides != traced.strides or copy.dtype != traced.dtype:
            continue
        step.kind = "alias"
        copied.append(source.n)
    return copied


def _all_zero_bytes(array: np.ndarray) -> bool:
    """Whether np.zeros makes `array` again, bit for bit and in its layout (not -0.0)."""
    if not array.flags.c_contiguous or array.dtype.hasobject:
        return False
    return not np.ndarray.view(array.reshape(-1), np.uint8).any()


def _dying(last: dict, end: int, kept_to_the_end: list) -> dict:
    """Step index -> the slots last used there: after it the plan lets their arrays go (del),
    as eager's reference counts do; the result's and the write-backs' slots are kept."""
    last = {**last, **dict.fromkeys(kept_to_the_end, end)}
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
    """The plan's first lines: its arguments together, and its arena made at its first replay
    (by a function in the plan's source, which it deletes once run)."""
    prologue = "    AK = (A, KW)\n"
    if not w.buffers:
        return prologue
    make = [f"    _arena = {w.bind(np.empty)}({w.arena}, {w.bind(np.uint8)})"]
    view = w.bind(np.ndarray)
    for b, name in w.buffers.items():
        dtype = w.bind(b.dtype)
        make.append(f"    {name} = {view}({b.shape!r}, {dtype}, _arena, {b.offset}, {b.strides!r})")
    names = ", ".join(w.buffers.values())
    w.allocate = f"def _allocate():\n    global {names}, _allocate\n" + "\n".join(make)
    w.allocate += "\n    del _allocate\n\n"
    return prologue + "    if B0 is None:\n        _allocate()\n"


class _Plan:
    """A plan: its source kept compressed until its first replay compiles it (a training loop's
    first step, traced before any .grad or optimiser state exists, is never replayed and costs
    no code object and little memory), then only the compiled function."""

    __slots__ = ("packed", "values", "filename", "run")

    def __init__(self, source: str, namespace: dict, filename: str) -> None:
        # the names go with the source; the bound values wait in a list
        text = source + "\n#" + " ".join(namespace)
        # a 4 KiB window: deflate's default tables take 256 KiB while it runs
        packer = zlib.compressobj(1, zlib.DEFLATED, 12, 4)
        self.packed = packer.compress(text.encode()) + packer.flush()
        self.values, self.filename = list(namespace.values()), filename
        self.run = self._compile_and_run

    @property
    def source(self) -> str:
        """The plan as Python, to read (NumPy's functions and the plan's constants by name)."""
        return zlib.decompress(self.packed).decode().rpartition("\n#")[0]

    def _compile_and_run(self, args: tuple, kwargs: dict) -> Any:
        source, _, names = zlib.decompress(self.packed).decode().rpartition("\n#")
        namespace = dict(zip(names.split(" "), self.values))
        exec(builtins.compile(source, self.filename, "exec"), namespace)
        self.run = namespace["plan"]
        self.values = None
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
    """The slots of the step's result tensors (each Out's array templated in place)."""

    def slot(value: Any) -> Any:
        if type(value) is not Out:
            return None
        value.data = trace.template(value.data)
        return value.data

    return tree_map(slot, output)


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
    """The step's result with each tensor marked for the plan (an Out of its array)."""
    return tree_map(lambda v: Out(v._data, v._requires_grad) if type(v) is Tensor else v, value)


class Out:
    """A tensor in the step's result: its array (a Slot once templated)."""

    def __init__(self, data: Any, requires_grad: bool) -> None:
        self.data, self.requires_grad = data, requires_grad

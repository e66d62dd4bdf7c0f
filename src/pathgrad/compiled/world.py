"""What a step reaches (the modules, optimisers and generators in its closure, globals and
defaults, and the tensors they hold), what it leaves that a replay must leave alike (a .grad
made, optimiser state made, memory given anew, versions counted), and what it reaches that a
plan cannot follow (hooks, changes to arrays it holds no owner of)."""

from __future__ import annotations

import functools
import types
from typing import Any

from pathgrad import random as pg_random
from pathgrad.autodiff import grad_mode
from pathgrad.compiled.tracing import Trace, Traced, unwrap
from pathgrad.nn.module import Module
from pathgrad.optim.optimizer import Optimizer
from pathgrad.tensor import Tensor

OWN_OPTIMIZERS = "pathgrad.optim.algorithms"


class World:
    """The modules, optimisers and generators a step reaches through its closure, globals and
    default arguments (and, a few levels down, the containers and objects holding them), found
    once, at the step's first call."""

    def __init__(self, fn: Any) -> None:
        self.modules: list = []
        self.optimizers: list = []
        self.generators: list = [pg_random.default_generator]
        self.loose: list = []  # parameters (leaves that require grad) outside modules
        # tensors that need no gradient (a dataset the step indexes, class weights, a mask),
        # read afresh at each replay as parameters are: left plain, a NumPy index into one
        # (data[ix]) is a read the trace cannot see, and the plan froze it
        self.fixed: list = []
        self.known: set = {id(pg_random.default_generator)}  # ids of what is listed above
        self.params: list = []  # the parameters whose .grad the signature watches
        self.live: set = set()  # ids of the groups whose learning rate is read live
        self.grow(_reachable_roots(fn))

    def grow(self, roots: Any, tensors: bool = True) -> bool:
        """Add what `roots` reach (at the first call, the step's closure, globals and defaults;
        at each call, its arguments, as in `train_step(model, optimizer, x, y)`); whether
        anything was new."""
        before = len(self.known)
        seen: set = set()
        self.collect_tensors = tensors  # an argument's tensors are read from the argument
        for root in roots:
            self._visit(root, seen, 0)
        if len(self.known) == before:
            return False
        found: dict = {id(p): p for p in self.loose}
        for group in self.groups:
            for p in group["params"]:
                found[id(p)] = p
        for module in self.modules:
            for p in module._parameters.values():
                if p is not None:
                    found[id(p)] = p
        self.params = list(found.values())
        self.live = {id(group) for _, _, group in self.live_rates()}
        return True

    def live_rates(self) -> list:
        """(optimiser, group index, group) whose learning rate the plan reads at each replay,
        so a schedule does not trace again: pathgrad's own optimisers, whose steps only
        multiply, divide and subtract with it (a user's optimiser keeps its rate in the
        signature instead)."""
        return [
            (optimizer, i, group)
            for optimizer in self.optimizers
            if type(optimizer).__module__ == OWN_OPTIMIZERS
            for i, group in enumerate(optimizer.param_groups)
            if type(group.get("lr")) in (int, float)
        ]

    def _visit(self, value: Any, seen: set, depth: int) -> None:
        if id(value) in seen or depth > 4:
            return
        if isinstance(value, Tensor):
            # a parameter held outside any module (the lectures' `parameters = [C, W1, ...]`),
            # or data the step reads (the lectures' `Xtr`, indexed by a random batch)
            if self.collect_tensors and value.grad_fn is None and id(value) not in self.known:
                self.known.add(id(value))
                (self.loose if value._requires_grad else self.fixed).append(value)
            return
        seen.add(id(value))
        if isinstance(value, (Module, Optimizer, pg_random.Generator)):
            if id(value) in self.known:
                return
            if isinstance(value, Module):
                for module in value.modules():
                    if id(module) not in self.known:
                        self.known.add(id(module))
                        self.modules.append(module)
            else:
                self.known.add(id(value))
                listed = self.optimizers if isinstance(value, Optimizer) else self.generators
                listed.append(value)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for item in list(value)[:1000]:
                self._visit(item, seen, depth + 1)
        elif isinstance(value, dict):
            for item in list(value.values())[:1000]:
                self._visit(item, seen, depth + 1)
        elif isinstance(value, (types.FunctionType, types.MethodType, functools.partial)):
            for root in _reachable_roots(value):
                self._visit(root, seen, depth + 1)
        elif hasattr(value, "__dict__") and not isinstance(value, (type, types.ModuleType)):
            for item in list(vars(value).values()):
                self._visit(item, seen, depth + 1)

    @property
    def groups(self) -> list:
        return [g for optimizer in self.optimizers for g in optimizer.param_groups]

    def tensors(self) -> list:
        """Every tensor whose memory the step may read or change, with where a replay finds it
        again: parameters and buffers (themselves), their `.grad` (through the parameter: a
        step may make a new one), optimiser state (through the state dict, which
        load_state_dict refills)."""
        found: dict = {id(t): (t, ("tensor", t)) for t in self.loose + self.fixed}
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


def write_back(trace: Trace, world: World, start: dict, ends: dict, flags: list) -> list:
    """What the step left that the plan must leave the same way, each (what, owner, key,
    slot): memory given anew ("data"), a tensor put where a .grad, optimiser state or a
    module's buffer lives ("tensor", None for a .grad dropped), a version counted, a training
    flag switched. Owners are as `World.tensors` gives them (the writer's `owner`)."""
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
            writes.append(("tensor", ("grad", owner), None, None))
        else:
            data = ends.get(id(grad), grad._data)
            writes.append(("tensor", ("grad", owner), None, trace.template(data)))
            grad._data = unwrap(data)
    for optimizer in world.optimizers:
        for p, state in optimizer.state.items():
            for key, value in state.items():
                if type(value) is Tensor and type(value._data) is Traced and id(value) not in ends:
                    slot = trace.template(value._data)
                    writes.append(("tensor", ("state", optimizer, p, key), None, slot))
                    value._data = unwrap(value._data)
    for module in world.modules:
        for table in ("_buffers", "_parameters"):
            for key, value in getattr(module, table).items():
                if value is not None and type(value._data) is Traced and id(value) not in ends:
                    slot = trace.template(value._data)
                    writes.append(("tensor", ("table", module, table, key), None, slot))
                    value._data = unwrap(value._data)
    for module, training in zip(world.modules, flags):
        if module.training != training:  # model.eval() inside the step: a replay does it too
            writes.append(("training", ("tensor", module), module.training, None))
    return writes


def refuse_writes_outside(trace: Trace) -> None:
    """An array that existed before the trace, reached by no argument, module, optimiser or
    parameter the step can be seen to hold, and changed in place by it: a plan would change a
    frozen copy."""
    found = {
        trace.info[slot].root
        for slot in trace.raw_slots.values()
        if slot in trace.constants  # not a view of the step's memory that NumPy made
    }
    for step in trace.steps:
        for n in step.writes or ():
            if trace.info[n].root in found:
                trace.refuse_feature(
                    f"changing in place an array of shape {trace.info[n].shape}",
                    "the step reaches it neither through its arguments nor through a module, "
                    "an optimiser or a parameter in its arguments, closure, globals or "
                    "defaults (searched four levels deep), so a plan would change a frozen "
                    "copy. Pass the tensor or its module as an argument",
                )
                return


def refuse_outside_hooks(trace: Trace, world: World, owners: list) -> None:
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

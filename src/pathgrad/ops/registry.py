"""The one registry of primitive ops: name -> definition. The test suite walks it.

An op's forward takes tensors (and Python numbers, which stay weak under NEP 50) and returns
`(out, vjp)`: `out` an ndarray, `vjp(grad)` (or `vjp(grad, out)` for ops that save their
output) returning one gradient per input, written in pathgrad's own tensor ops; or, for an op
of several inputs, a tuple of such formulas, one per input, each returning its input's gradient.

The registry sits below `pathgrad.tensor`, so it cannot build tensors itself: `tensor.py`
binds the engine that runs and records an op (`bind_engine`) when it is imported.
"""

from __future__ import annotations

import functools
import inspect
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from pathgrad.autodiff.grad_mode import engine
from pathgrad.errors import op_context

NUMBER_TYPES = (int, float, bool)
# the default float dtype (pg.set_default_dtype keeps it): what integers become in float ops
default_float = np.dtype(np.float32)
# the rule every non-differentiable op states (comparisons, bitwise ops, argmax, floor_divide)
NO_GRADIENT = "no gradient: the engine records nothing through it (as PyTorch)"


class OpDefinition:
    """What the engine needs to know about a primitive."""

    __slots__ = (
        "name",
        "forward",
        "inputs",
        "broadcast",
        "saves_out",
        "differentiable",
        "view",
        "rule",
    )

    def __init__(
        self,
        name: str,
        forward: Callable[..., Any],
        inputs: int | str,
        broadcast: bool,
        saves_out: bool,
        differentiable: bool,
        view: bool | str = False,
        rule: str = "",
    ) -> None:
        self.name = name
        self.rule = rule
        self.forward = forward
        self.inputs = inputs
        self.broadcast = broadcast
        self.saves_out = saves_out
        self.differentiable = differentiable
        self.view = view

    def __repr__(self) -> str:
        return f"<op {self.name}>"


REGISTRY: dict[str, OpDefinition] = {}


def _unbound(*args: Any) -> Any:
    raise RuntimeError("pathgrad's engine is not bound: import pathgrad, not pathgrad.ops alone")


# Set by pathgrad.dispatch at import (`bind_engine`): running an op builds tensors, and tensors
# sit above the ops in the layering, so the registry is handed the engine rather than importing
# it. Ops run through the engine variant's `apply` (autodiff.grad_mode.engine).
_as_tensor: Callable[[Any], Any] = _unbound
_link_view: Callable[..., None] = _unbound


def bind_engine(
    apply: Callable[..., Any],
    as_tensor: Callable[[Any], Any],
    link_view: Callable[..., None] | None = None,
    tensor_type: type | None = None,
    from_array: Callable[[Any], Any] | None = None,
) -> None:
    """Install the engine: how to run an op, make a tensor of any value and around an array,
    tie a view to its base, and the tensor class itself."""
    global _as_tensor, _link_view, _tensor_type, _from_array
    engine.apply, _as_tensor = apply, as_tensor
    if link_view is not None:
        _link_view = link_view
    if tensor_type is not None:
        _tensor_type, _from_array = tensor_type, from_array


class _EngineNotBound:
    """No value is of this type: until the engine is bound, as_tensor passes nothing through."""


_tensor_type: type = _EngineNotBound
_from_array: Callable[[Any], Any] = _unbound


def as_tensor(x: Any) -> Any:
    """A tensor for `x` (tensors pass through); for composites that read shapes first."""
    return x if type(x) is _tensor_type else _as_tensor(x)


def op(
    name: str,
    *,
    inputs: int | str = 1,
    broadcast: bool = False,
    saves_out: bool = False,
    differentiable: bool = True,
    view: bool | str = False,
    casts: bool = False,
    rule: str = "",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a primitive. `inputs` counts the leading tensor arguments ("sequence": one list).

    `broadcast=True` ops have their tensor inputs brought to one shape and dtype by explicit,
    recorded `broadcast_to` and cast ops before the forward runs, so every rule sees equal
    shapes and returns gradients of the input's shape: broadcasting is undone in one place.
    `view=True` ops return NumPy views of their input (`view="maybe"`: sometimes a copy);
    such outputs share its memory and its version counter, as PyTorch's views do.
    `casts=True` ops take PyTorch's `dtype=` (sum, softmax, ...): the input is cast first by
    the recorded `to`, whose rule casts the gradient back, so the op's own rule never sees it.
    `rule` is the VJP as a person writes it, one statement per differentiable input in order
    (`"dL/da = dL/dout @ b^T; dL/db = a^T @ dL/dout"`), named after the forward's parameters;
    `pathgrad.explain` prints it and the registry test requires it of every differentiable op.
    A rule states what it saves as its default arguments (`def vjp(grad, x=x)`), as PyTorch's
    save_for_backward states them: the version check reads those (a tensor, or a list of them)
    and no others, and a test requires every tensor a rule keeps to be one, and no rule to keep
    an input's raw memory. An op of several inputs gives one formula per input where it can
    (`(lambda grad, y=y: grad * y, lambda grad, x=x: grad * x)`, as PyTorch's derivatives.yaml):
    which inputs need a gradient is the engine's business, which keeps only their formulas.
    """

    def register(forward: Callable[..., Any]) -> Callable[..., Any]:
        if name in REGISTRY:
            raise ValueError(f"op {name!r} is registered twice")
        stated = rule or ("" if differentiable else NO_GRADIENT)
        definition = OpDefinition(
            name, forward, inputs, broadcast, saves_out, differentiable, view, stated
        )
        REGISTRY[name] = definition

        names = _numpy_names_of(forward)
        if not (casts or view or names):  # most ops: nothing to do but run (every op's hot path)

            @functools.wraps(forward)
            def call(*args: Any, **kwargs: Any) -> Any:
                return engine.apply(definition, args, kwargs)

        else:
            # PyTorch's dtype= (cast first by the recorded `to`) and NumPy's axis=/keepdims= are
            # read here, and views tied to their base, in the call itself rather than in frames
            # around it: the engine finds the user's line two frames up
            @functools.wraps(forward)
            def call(*args: Any, **kwargs: Any) -> Any:
                if kwargs:
                    if names and ("axis" in kwargs or "keepdims" in kwargs):
                        kwargs = torch_names(kwargs, names, name)
                    if casts and "dtype" in kwargs:
                        dtype = kwargs.pop("dtype")
                        if dtype is not None:
                            args = (_cast_input(args[0], dtype),) + args[1:]
                result = engine.apply(definition, args, kwargs)
                if view:
                    _link_view(result, args, kwargs, definition)
                return result

        call.definition = definition  # type: ignore[attr-defined]
        return call

    return register


# NumPy's names for PyTorch's arguments, which PyTorch's argument parser takes for them
NUMPY_NAMES = {"axis": "dim", "keepdims": "keepdim"}


def _numpy_names_of(fn: Callable[..., Any]) -> dict[str, str]:
    """The NumPy names `fn` takes: those whose PyTorch name is one of its parameters (all of
    them where it parses keywords itself, as max and min do)."""
    parameters = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return dict(NUMPY_NAMES)
    return {numpy: torch for numpy, torch in NUMPY_NAMES.items() if torch in parameters}


def numpy_names(fn: Callable[..., Any]) -> Any:
    """A composite `fn` taking `axis=` for `dim=` and `keepdims=` for `keepdim=`, as PyTorch
    does (`P.mean(1, keepdims=True)`), where its parameters have them (ops registered with
    `op` read them in their call)."""
    names = _numpy_names_of(fn)

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        if kwargs and ("axis" in kwargs or "keepdims" in kwargs):
            kwargs = torch_names(kwargs, names, fn.__name__)
        return fn(*args, **kwargs)

    return call


def torch_names(kwargs: dict, names: dict[str, str], op_name: str) -> dict:
    """`kwargs` with NumPy's names as PyTorch's; both names for one argument is refused."""
    renamed = {}
    for key, value in kwargs.items():
        torch_name = names.get(key)
        if torch_name is None:
            renamed[key] = value  # the op refuses what it does not take, by its own name
            continue
        if torch_name in kwargs:
            raise TypeError(f"{op_name}() got both {key}= and {torch_name}=; give one")
        renamed[torch_name] = value
    return renamed


def wrap(array: np.ndarray) -> Any:
    """A plain tensor around a fresh floating array a rule computed (no checks: the engine
    checks each gradient's shape and dtype after the rule)."""
    return _from_array(array)


def value(x: Any) -> Any:
    """The ndarray of a tensor, or a Python number as it is (numbers stay weak, as NEP 50 says)."""
    return x if type(x) in NUMBER_TYPES else x._data


def normalize_dims(dim: Any, ndim: int, op_name: str) -> tuple[int, ...]:
    """`dim` (None, int or tuple) as a sorted tuple of non-negative axes; None means all."""
    if dim is None:
        return tuple(range(ndim))
    try:  # any integer (a NumPy one, a 0-d integer tensor) names a dim
        if isinstance(dim, (tuple, list)):
            dims = tuple(operator.index(d) for d in dim)
        else:
            dims = (operator.index(dim),)
    except TypeError:
        raise TypeError(
            f"{op_context(op_name)}: dim must be an int or a tuple of ints, not {dim!r}"
        ) from None
    rank = max(ndim, 1)
    normalized = []
    for d in dims:
        if not -rank <= d < rank:
            raise IndexError(
                f"{op_context(op_name)}: dim {d} is out of range for a tensor with {ndim} "
                f"dimensions (expected a dim in [{-rank}, {rank - 1}])"
            )
        normalized.append(d % rank if ndim else 0)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{op_context(op_name)}: dim {dim} names a dimension twice")
    return tuple(sorted(normalized)) if ndim else ()


def _cast_input(x: Any, dtype: Any) -> Any:
    x = as_tensor(x)
    dtype = np.dtype(dtype)
    return x if x._data.dtype == dtype else engine.apply(REGISTRY["to"], (x, dtype), {})


def as_weak(factor: Any, dtype: Any) -> Any:
    """A scalar factor as it meets an array of `dtype`: a Python number stays one (NumPy casts
    it to the array's dtype, NEP 50's weak scalar); a 0-d array (a count or a step size that
    pg.compile's trace keeps an array, so the plan computes it) is cast alike, to the same
    value."""
    if type(factor) in NUMBER_TYPES:
        return factor
    cast = getattr(factor, "astype", None)  # a NumPy scalar or array; pg.compile's live float
    return factor if cast is None else cast(dtype)  # (no astype) stays as it is


def counted(count: np.ndarray) -> Any:
    """A 0-d count's value to compute with (an optimiser's step, BatchNorm's batches seen): a
    Python float, or, for pg.compile's traced array (a subclass), a 0-d float64 array, so that
    the plan computes with the count rather than freeze it."""
    return float(count) if type(count) is np.ndarray else count.astype(np.float64)


def per_element(fn: Callable[[float], float], array: np.ndarray) -> np.ndarray:
    """`fn` (a `math` function of one float) on every element, as float64: through a list of
    floats, 1.5x faster than np.frompyfunc's object array. A subclass of ndarray (pg.compile's
    traced array) goes through the ufunc instead, which it can record; the values are the same."""
    if type(array) is not np.ndarray:
        return _PER_ELEMENT[fn](array).astype(np.float64)
    return np.fromiter(map(fn, array.ravel().tolist()), np.float64, array.size).reshape(array.shape)


class _ElementUfuncs(dict):
    def __missing__(self, fn: Callable[[float], float]) -> np.ufunc:
        ufunc = self[fn] = np.frompyfunc(fn, 1, 1)
        return ufunc


_PER_ELEMENT = _ElementUfuncs()


def needs_grad(x: Any) -> bool:
    """Whether input `x` wants a gradient, so rules skip work for constants and numbers."""
    return type(x) not in NUMBER_TYPES and x._requires_grad


def floating(x: Any) -> np.ndarray:
    """x's values for a float op: integers and bools in the default float dtype, as PyTorch
    (NumPy would take float16 for 8-bit ones, and overflow e^20)."""
    data = x._data
    return data.astype(default_float) if data.dtype.kind in "biu" else data


def float_result(out: Any, x: Any, y: Any) -> Any:
    """A binary op's result where NumPy made a float of integers (int / int, int * 0.5):
    PyTorch's default float dtype, not NumPy's float64 (or float16 for 8-bit ones). Results
    with a float tensor among the operands keep NumPy's (NEP 50) dtype."""
    try:
        dtype = out.dtype
    except AttributeError:  # explain's symbolic values
        return out
    if dtype is default_float:  # the common case, by identity: NumPy's dtypes are singletons
        return out
    if dtype.kind != "f" or _floating_tensor(x) or _floating_tensor(y):
        return out
    return out.astype(default_float)


def _floating_tensor(v: Any) -> bool:
    return type(v) not in NUMBER_TYPES and v._data.dtype.kind == "f"

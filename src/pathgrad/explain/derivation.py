"""`pg.explain`: the seed's derivation, automated for a small graph.

The graph is replayed on symbols (`symbolic.py`): every tensor the user named (a leaf, the
output, an intermediate held in a variable) is a boundary, its elements symbols `d_11`, and the
ops between two boundaries collapse into one step, `d_11 = a_11 b_11 + a_12 b_21 + c_1`, as the
seed writes it. For each element of an input, the derivation lists the output elements that
contain it, the partial derivative along each path (SymPy's exact derivative), the sum across
paths, the same sum with the later steps substituted (paths multiply through the chain), the
matrix formula composed from the ops' stated rules, and a check of the sum, evaluated, against
the gradient the engine computes.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pathgrad.autodiff.grad_mode import use_variant
from pathgrad.autodiff.node import Node
from pathgrad.autodiff.toposort import reverse_topological_order
from pathgrad.errors import PathgradError
from pathgrad.explain import symbolic
from pathgrad.tensor import Tensor, from_array

# the most elements of one tensor the derivation prints, and the most ops it walks
MAX_ELEMENTS = 36
MAX_OPS = 40


_DONE = object()


class ExplainError(PathgradError, ValueError):
    """A graph explain cannot show: too big, not recorded, or through an op SymPy lacks."""


@contextlib.contextmanager
def recording() -> Iterator[None]:
    """Keep every op's inputs while the block runs, so `pg.explain` can replay the graph.

    Off by default: keeping inputs holds intermediate tensors alive until backward, which
    costs small ops about 15% of their time.

    >>> a = pg.tensor([1.0, 2.0], dtype=pg.float64, requires_grad=True)
    >>> with pg.explain.recording():
    ...     y = (a * a).sum()
    >>> pg.explain(y, wrt=[a]).agree
    True
    """
    previous = use_variant(keep_inputs=True)
    try:
        yield
    finally:
        use_variant(**previous)


@dataclass
class Path:
    """One term of a sum across paths: dL/d{via}_{element} * d{via}/d{x}."""

    via: str  # the later tensor's name
    element: Any  # its element's symbol (d_11)
    partial: Any  # d(via element)/d(x element), a SymPy expression
    upstream: Any  # dL/d(via element) with later steps substituted


@dataclass
class ElementDerivation:
    symbol: Any  # a_11
    index: tuple[int, ...]
    paths: list[Path]
    total: Any  # the sum across paths, later steps substituted (a SymPy expression)
    value: float  # the sum evaluated
    engine: float  # the engine's gradient element


@dataclass
class InputDerivation:
    name: str
    shape: tuple[int, ...]
    elements: list[ElementDerivation]
    formula: str  # the matrix form, composed from the ops' rules
    rules: list[str]  # the rules it was composed from, "matmul: dL/da = ..."
    broadcast: str  # "c was broadcast over dim 0, so its gradient is summed over it", or ""
    agree: bool
    largest_difference: float


@dataclass
class Step:
    """One boundary tensor and its elements as expressions of the boundaries below it."""

    name: str
    shape: tuple[int, ...]
    symbols: np.ndarray  # object array of SymPy symbols
    expressions: np.ndarray  # object array of SymPy expressions
    inputs: list[str]
    ops: list[str]


@dataclass
class Explanation:
    """What `pg.explain` found; print it, or ask for `.markdown()` or `.html()`."""

    output: str
    scalar: bool
    steps: list[Step]
    inputs: list[InputDerivation]
    upstream: np.ndarray | None  # dL/d(output) used for the values, if the output is not scalar
    chain: dict[str, str] = field(default_factory=dict)  # dL/d(step) formulas, later steps
    constants: list[str] = field(default_factory=list)  # what unnamed constants stand for
    tensor: Any = None  # the output, for drawing the graph
    _naming: Any = None

    @property
    def agree(self) -> bool:
        return all(d.agree for d in self.inputs)

    def text(self) -> str:
        from pathgrad.explain.render import text

        return text(self)

    def markdown(self) -> str:
        from pathgrad.explain.render import markdown

        return markdown(self)

    def html(self) -> str:
        from pathgrad.explain.render import html_page

        return html_page(self)

    def save(self, path: str, format: str | None = None) -> None:
        """Write the text, Markdown or HTML page (by `format`, else by the file's suffix)."""
        from pathgrad.explain.render import save

        save(self, path, format)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def _repr_html_(self) -> str:
        from pathgrad.explain.render import html_fragment

        return html_fragment(self)


def explain(
    output: Tensor,
    wrt: Any = None,
    names: dict[str, Tensor] | None = None,
    grad_output: Any = None,
    caller_names: bool = True,
) -> Explanation:
    """Derive d(output)/d(input) element by element, as the seed derivation does.

    `wrt`: the tensors to explain (a list, or a dict name -> tensor); by default every leaf
    that requires grad. Names come from `wrt`/`names`, else from the caller's variables, so
    `d = a @ b + c` is explained in `a_11`, `d_12`. The graph must have been built inside
    `with pg.explain.recording():`. A non-scalar output stands for L(output): its gradient
    dL/d(output) is `grad_output` (ones by default) when values are checked.
    `caller_names=False` names only what `wrt` and `names` name.

    >>> a = pg.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=pg.float64, requires_grad=True)
    >>> b = pg.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=pg.float64, requires_grad=True)
    >>> c = pg.tensor([0.1, -0.2], dtype=pg.float64, requires_grad=True)
    >>> with pg.explain.recording():
    ...     d = a @ b + c
    >>> explanation = pg.explain(d, wrt=[a, b, c])
    >>> print(explanation.inputs[0].elements[0].paths[0].partial, explanation.inputs[0].formula)
    b_11 dL/dd @ b^T
    """
    symbolic.require_sympy()
    if not isinstance(output, Tensor) or output.grad_fn is None:
        raise ExplainError(
            "explain: the output must be a tensor computed from inputs that require grad "
            f"(got {_described(output)})"
        )
    caller = sys._getframe(1).f_locals if caller_names else {}
    naming = _Naming(output, wrt, names, caller)
    graph = _Graph(output, naming)
    return graph.explain(grad_output)


def _described(x: Any) -> str:
    return "a tensor with no graph" if isinstance(x, Tensor) else type(x).__name__


class _Naming:
    """Which tensors the derivation names, and what it calls them."""

    def __init__(self, output: Tensor, wrt: Any, names: dict | None, caller: dict) -> None:
        self.by_leaf: dict[int, str] = {}  # id(leaf tensor) -> name
        self.by_node: dict[int, str] = {}  # id(node) -> name
        self.wrt: list[Tensor] = []
        given = dict(names or {})
        if isinstance(wrt, dict):
            given.update(wrt)
            self.wrt = list(wrt.values())
        elif wrt is not None:
            self.wrt = [wrt] if isinstance(wrt, Tensor) else list(wrt)
        for name, t in given.items():
            self._name(t, name)
        for name, t in caller.items():  # the caller's variables, first name wins
            if isinstance(t, Tensor) and not name.startswith("_") and self.name_of(t) is None:
                self._name(t, name)
        if self.name_of(output) is None:
            self._name(output, "L" if output._data.size == 1 else "out")
        unnamed = 0
        for t in self.wrt:
            if self.name_of(t) is None:
                unnamed += 1
                self._name(t, f"x{unnamed}")

    def _name(self, t: Any, name: str) -> None:
        if not isinstance(t, Tensor):
            raise TypeError(f"explain: {name!r} names a {type(t).__name__}, not a tensor")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", name):
            name = re.sub(r"[^A-Za-z0-9]", "", name) or "t"
        if t.grad_fn is not None:
            self.by_node[id(t.grad_fn)] = name
        else:
            self.by_leaf[id(t)] = name

    def name_of(self, t: Tensor) -> str | None:
        if t.grad_fn is not None:
            return self.by_node.get(id(t.grad_fn))
        return self.by_leaf.get(id(t))


def _check_size(name: str, shape: tuple[int, ...]) -> None:
    size = int(np.prod(shape))
    if size > MAX_ELEMENTS:
        raise ExplainError(
            f"explain: {name} has {size} elements {tuple(shape)}; a derivation is legible up "
            f"to {MAX_ELEMENTS} elements a tensor: explain a smaller example (2x2 or 3x3 "
            "shows every pattern a big one has)"
        )


class _Graph:
    """The recorded graph, replayed on symbols."""

    def __init__(self, output: Tensor, naming: _Naming) -> None:
        self.output = output
        self.naming = naming
        self.order = self._topological(output.grad_fn)
        if len(self.order) > MAX_OPS:
            raise ExplainError(
                f"explain: the graph has {len(self.order)} ops; a derivation is legible up to "
                f"{MAX_OPS}: explain a part of it (name an intermediate tensor and explain "
                "the output with respect to it)"
            )
        for node in self.order:
            if node.inputs is None:
                raise ExplainError(
                    "explain: this graph was built without its inputs kept; build it inside "
                    "`with pg.explain.recording():` (off by default, as it keeps "
                    "intermediate tensors alive)"
                )
            if node.name in symbolic.NOT_SYMBOLIC:
                raise ExplainError(
                    f"explain: the graph goes through {node.name}, which has no closed form to "
                    f"derive ({symbolic.NOT_SYMBOLIC[node.name]})"
                )
            _check_size(f"the output of {node.name}", node.shape)

    @staticmethod
    def _topological(root: Node) -> list[Node]:
        """Nodes from the inputs up to `root`, each once: the engine's own walk, reversed."""
        return reverse_topological_order([root])[0][::-1]

    def _boundary_name(self, node: Node) -> str | None:
        return self.naming.by_node.get(id(node))

    def explain(self, grad_output: Any) -> Explanation:
        sympy = symbolic.require_sympy()
        naming = self.naming
        value: dict[int, np.ndarray] = {}  # id(node or leaf) -> Duals as later ops see them
        steps: list[Step] = []
        leaf_names: dict[int, tuple[str, Tensor]] = {}

        def operand(t: Any) -> Any:
            if not isinstance(t, Tensor):
                return t
            if t.grad_fn is not None and id(t.grad_fn) in value:
                return symbolic.SymbolicTensor(value[id(t.grad_fn)])
            if t._data.dtype.kind != "f":
                return t  # an index: stays numbers
            if t.requires_grad and t.grad_fn is None:
                if id(t) not in value:
                    name = naming.by_leaf.get(id(t)) or self._new_leaf_name(t)
                    _check_size(name, t.shape)
                    leaf_names[id(t)] = (name, t)
                    value[id(t)] = symbolic.symbols(name, t._data.astype(np.float64))
                return symbolic.SymbolicTensor(value[id(t)])
            name = naming.name_of(t)  # a constant: a symbol if the user named it
            if name is not None and t._data.size <= MAX_ELEMENTS:
                return symbolic.SymbolicTensor(symbolic.symbols(name, t._data.astype(np.float64)))
            return symbolic.SymbolicTensor(symbolic.constants(t._data.astype(np.float64)))

        def arguments(node: Node) -> tuple[tuple, dict]:
            args, kwargs = node.inputs
            arity = node.definition.inputs
            if arity == "sequence":
                return ([operand(t) for t in args[0]],) + tuple(args[1:]), kwargs
            return tuple(operand(a) for a in args[:arity]) + tuple(args[arity:]), kwargs

        for node in self.order:
            args, kwargs = arguments(node)
            out = symbolic.symbolic_forward(node.definition, args, kwargs)
            name = self._boundary_name(node)
            if name is None:
                value[id(node)] = out
                continue
            fresh = symbolic.symbols(name, symbolic.values(out))
            steps.append(
                Step(
                    name,
                    node.shape,
                    symbolic.expressions(fresh),
                    symbolic.expressions(out),
                    *self._feeding(node),
                )
            )
            value[id(node)] = fresh

        return self._derive(steps, leaf_names, value, grad_output, sympy)

    def _new_leaf_name(self, t: Tensor) -> str:
        taken = set(self.naming.by_leaf.values()) | set(self.naming.by_node.values())
        for letter in "abcdefghijkmnpqrstuvw":
            if letter not in taken:
                self.naming.by_leaf[id(t)] = letter
                return letter
        raise ExplainError("explain: more unnamed inputs than letters; pass names=")

    def _feeding(self, node: Node) -> tuple[list[str], list[str]]:
        """The boundaries below `node` (named tensors it is computed from), in the order the
        expression reads them, and the ops between."""
        inputs, ops, seen = [], [node.name], {id(node)}
        stack = [iter(node.parents)]  # depth first, each node's parents left to right
        while stack:
            parent = next(stack[-1], _DONE)
            if parent is _DONE:
                stack.pop()
                continue
            if isinstance(parent, Node):
                name = self._boundary_name(parent)
                if name is None and id(parent) not in seen:
                    seen.add(id(parent))
                    ops.append(parent.name)
                    stack.append(iter(parent.parents))
            elif isinstance(parent, Tensor):
                name = self.naming.by_leaf.get(id(parent))
            else:
                name = None
            if name is not None and name not in inputs:
                inputs.append(name)
        return inputs, ops

    def _derive(self, steps, leaf_names, value, grad_output, sympy) -> Explanation:
        output_node = self.output.grad_fn
        out_step = next(s for s in steps if s.name == self._boundary_name(output_node))
        scalar = self.output._data.size == 1
        upstream_values = None
        if scalar:
            upstream = np.full(out_step.shape, sympy.Integer(1), dtype=object)
        else:
            upstream = np.vectorize(lambda s: sympy.Symbol(f"dL/d{s}"), otypes=[object])(
                out_step.symbols
            )
            upstream_values = (
                np.ones(out_step.shape)
                if grad_output is None
                else np.broadcast_to(np.asarray(_array(grad_output), np.float64), out_step.shape)
            )
        # dL/d(step element), with later steps substituted: from the output down
        gradients: dict[str, np.ndarray] = {out_step.name: upstream}
        for step in reversed(steps):
            grad = gradients.get(step.name)
            if grad is None:
                continue
            for name in step.inputs:
                symbols = self._symbols_of(name, steps, value, leaf_names)
                contribution = np.empty(symbols.shape, dtype=object)
                for index in np.ndindex(*symbols.shape):
                    total = sympy.Integer(0)
                    for out_index in np.ndindex(*step.shape):
                        partial = sympy.diff(step.expressions[out_index], symbols[index])
                        if partial != 0:
                            total += grad[out_index] * partial
                    contribution[index] = total
                previous = gradients.get(name)
                gradients[name] = contribution if previous is None else previous + contribution
        point = self._point(steps, value, leaf_names, out_step, upstream_values, sympy)
        engine = self._engine_gradients(leaf_names, steps, upstream_values)
        derivations = []
        for name, (shape, symbols) in self._wrt(steps, value, leaf_names).items():
            derivations.append(
                self._input_derivation(
                    name, shape, symbols, steps, gradients, point, engine[name], sympy
                )
            )
        from pathgrad.explain.compose import matrix_formulas

        formulas = matrix_formulas(self.output, self.naming)
        for d in derivations:
            d.formula, d.rules, d.broadcast = formulas.for_input(d.name)
        return Explanation(
            output=out_step.name,
            scalar=scalar,
            steps=steps,
            inputs=derivations,
            upstream=upstream_values,
            chain={s.name: formulas.text.get(s.name, "") for s in steps[:-1]},
            constants=list(formulas.constants.values()),
            tensor=self.output,
            _naming=self.naming,
        )

    def _symbols_of(self, name, steps, value, leaf_names) -> np.ndarray:
        for step in steps:
            if step.name == name:
                return step.symbols
        for key, (leaf_name, _) in leaf_names.items():
            if leaf_name == name:
                return symbolic.expressions(value[key])
        raise KeyError(name)

    def _wrt(self, steps, value, leaf_names) -> dict[str, tuple[tuple, np.ndarray]]:
        """The inputs to explain, in the order asked (default: every leaf, in graph order)."""
        chosen = {}
        targets = self.naming.wrt or [t for _, t in leaf_names.values()]
        for t in targets:
            name = self.naming.name_of(t)
            if t.grad_fn is None and id(t) not in leaf_names:
                raise ExplainError(f"explain: {name} is not an input of this graph")
            chosen[name] = (tuple(t.shape), self._symbols_of(name, steps, value, leaf_names))
        return chosen

    def _point(self, steps, value, leaf_names, out_step, upstream_values, sympy) -> dict:
        point = {}
        for key in leaf_names:
            for d in value[key].reshape(-1):
                point[d.expr] = d.value
        for step in steps:
            for index in np.ndindex(*step.shape):
                # a step's symbol stands for its value
                point[step.symbols[index]] = float(
                    step.expressions[index].xreplace(
                        {k: sympy.Float(v, 30) for k, v in point.items()}
                    )
                )
        if upstream_values is not None:
            for index in np.ndindex(*out_step.shape):
                point[sympy.Symbol(f"dL/d{out_step.symbols[index]}")] = upstream_values[index]
        return point

    def _engine_gradients(self, leaf_names, steps, upstream_values) -> dict[str, np.ndarray]:
        from pathgrad import autograd

        targets = self.naming.wrt or [t for _, t in leaf_names.values()]
        seed = None if upstream_values is None else from_array(upstream_values.astype(np.float64))
        grads = autograd.grad(
            self.output, targets, grad_outputs=seed, retain_graph=True, allow_unused=True
        )
        result = {}
        for t, g in zip(targets, grads):
            result[self.naming.name_of(t)] = (
                np.zeros(t.shape) if g is None else g._data.astype(np.float64),
                t._data.dtype,
            )
        return result

    def _input_derivation(
        self, name, shape, symbols, steps, gradients, point, engine, sympy
    ) -> InputDerivation:
        engine, engine_dtype = engine
        substitution = {k: sympy.Float(v, 30) for k, v in point.items()}
        elements = []
        for index in np.ndindex(*shape):
            symbol = symbols[index]
            paths = []
            for step in steps:
                if name not in step.inputs:
                    continue
                later = gradients.get(step.name)
                for out_index in np.ndindex(*step.shape):
                    partial = sympy.diff(step.expressions[out_index], symbol)
                    if partial != 0:
                        upstream = later[out_index] if later is not None else sympy.Integer(0)
                        paths.append(Path(step.name, step.symbols[out_index], partial, upstream))
            total = gradients.get(name, np.zeros(shape, dtype=object))[index]
            total = sympy.Integer(0) if total == 0 else total
            number = float(sympy.sympify(total).xreplace(substitution))
            elements.append(ElementDerivation(symbol, index, paths, total, number, engine[index]))
        got = np.array([e.value for e in elements]).reshape(shape)
        difference = float(np.max(np.abs(got - engine))) if got.size else 0.0
        scale = max(1.0, float(np.max(np.abs(engine))) if engine.size else 1.0)
        # the engine computes in the tensors' dtype; the derivation in exact algebra
        tolerance = 1e-9 if engine_dtype == np.float64 else 1e-5
        return InputDerivation(
            name,
            shape,
            elements,
            "",
            [],
            "",
            agree=difference <= tolerance * scale,
            largest_difference=difference,
        )


def _array(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x

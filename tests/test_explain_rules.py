"""Exact rule checks: every registered op's VJP against the Jacobian SymPy derives from the
op's own forward run on symbols (item 4 of issue 15). Finite differences agree to ~1e-6 and
can hide a small rule error; this agrees to rounding, or names the op and the input."""

from __future__ import annotations

import numpy as np
import pytest

import pathgrad as pg
from op_cases import ALL_CASES, inputs_for
from pathgrad.autodiff.backprop import run_rule
from pathgrad.autodiff.grad_mode import use_variant
from pathgrad.autodiff.toposort import reverse_topological_order
from pathgrad.ops.registry import REGISTRY
from pathgrad.tensor import Tensor, from_array

sympy = pytest.importorskip("sympy", reason="the exact rule checks need SymPy (extra: explain)")
from pathgrad.explain import symbolic  # noqa: E402  (needs SymPy)


def _graph_nodes(outputs) -> list:
    """Every node behind `outputs`, each once, in the engine's order."""
    roots = [o.grad_fn for o in outputs if isinstance(o, Tensor) and o.grad_fn is not None]
    return reverse_topological_order(roots)[0]


def _recorded(case):
    tensors = [pg.tensor(a, requires_grad=True) for a in inputs_for(case)]
    previous = use_variant(keep_inputs=True)
    try:
        out = case.fn(pg, *tensors)
    finally:
        use_variant(**previous)
    return _graph_nodes(out if isinstance(out, (tuple, list)) else [out])


def _symbolic_args(node) -> tuple[tuple, dict, dict]:
    """The node's arguments with each floating tensor input replaced by symbols x{i}_jk, by
    position: `x * x` has two inputs, each with its own gradient."""
    args, kwargs = node.inputs
    arity = node.definition.inputs
    replaced = {}

    def substitute(position, t):
        if isinstance(t, Tensor) and t._data.dtype.kind == "f":
            replaced[position] = symbolic.symbols(f"x{position}", t._data.astype(float))
            return symbolic.SymbolicTensor(replaced[position])
        return t

    if arity == "sequence":
        args = ([substitute(i, t) for i, t in enumerate(args[0])],) + tuple(args[1:])
    else:
        args = tuple(substitute(i, a) for i, a in enumerate(args[:arity])) + tuple(args[arity:])
    return args, kwargs, replaced


def _check_node(node, rng) -> None:
    args, kwargs, replaced = _symbolic_args(node)
    out = symbolic.symbolic_forward(node.definition, args, kwargs)
    outs = symbolic.expressions(out).reshape(-1)
    upstream = rng.standard_normal(node.shape)
    grad = pg.tensor(upstream)
    grads = run_rule(node, grad, lambda data, node: from_array(data), retain_graph=True)
    point = {}
    for symbols in replaced.values():
        for d in symbols.reshape(-1):
            point[d.expr] = sympy.Float(d.value, 30)
    for position, symbols in replaced.items():
        if node.parents[position] is None or grads[position] is None:
            continue
        expected = np.zeros(symbols.size)
        for j, d in enumerate(symbols.reshape(-1)):
            total = sympy.Float(0, 30)
            for k, e in enumerate(outs):
                derivative = sympy.diff(e, d.expr)
                if derivative != 0:
                    total += derivative.xreplace(point).evalf(30) * upstream.reshape(-1)[k]
            expected[j] = float(total)
        got = grads[position]._data.reshape(-1)
        # a rule that casts to or from float32 rounds there
        exact = node.dtype == np.float64 and got.dtype == np.float64
        rtol, atol = (1e-9, 1e-11) if exact else (1e-5, 1e-6)
        np.testing.assert_allclose(
            got,
            expected,
            rtol=rtol,
            atol=atol,
            err_msg=f"{node.name}: rule for input {position} differs from the exact Jacobian",
        )


def _differentiable(case) -> bool:
    return REGISTRY[case.op].differentiable if case.op in REGISTRY else True


CASES = [c for c in ALL_CASES if _differentiable(c)]


@pytest.mark.parametrize("case", CASES, ids=[c.id or c.op for c in CASES])
def test_rule_equals_symbolic_jacobian(case):
    rng = np.random.default_rng(0)
    checked = 0
    for node in _recorded(case):
        if node.name in symbolic.NOT_SYMBOLIC:
            continue
        _check_node(node, rng)
        checked += 1
    if case.op not in symbolic.NOT_SYMBOLIC and case.op in REGISTRY:
        assert checked, f"no node of {case.op} was checked"


def test_every_differentiable_op_is_checked_or_listed_with_a_reason():
    reached = set()
    for case in CASES:
        reached.update(node.name for node in _recorded(case))
    missing = {
        name
        for name, d in REGISTRY.items()
        if d.differentiable and name not in reached and name not in symbolic.NOT_SYMBOLIC
    }
    assert not missing, f"ops with no exact rule check: {sorted(missing)}"
    for name, reason in symbolic.NOT_SYMBOLIC.items():
        assert name in REGISTRY and len(reason) > 20


def test_a_rule_off_by_one_part_in_ten_million_fails_the_check():
    # finite differences (eps 1e-6) cannot see this error; the exact check must
    case = next(c for c in CASES if c.op == "tanh")
    node = next(n for n in _recorded(case) if n.name == "tanh")
    rule = node.vjp
    node.vjp = lambda grad, out: rule(grad, out) * (1 + 1e-7)
    with pytest.raises(AssertionError, match="tanh: rule for input 0"):
        _check_node(node, np.random.default_rng(0))

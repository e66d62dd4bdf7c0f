"""The version-counter sweep (issue 18, item 3): for every op case, each input changed in
place after the forward makes backward either stop with the version error or, where no rule
reads that input, give the gradient an unchanged run gives. A rule that kept a raw array the
check cannot see would give a wrong gradient here, silently, and fail this test."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import pathgrad as pg
from op_cases import ALL_CASES, inputs_for

CASES = [c for c in ALL_CASES if c.shapes]


def _run(case, arrays, change_at=None):
    leaves = [pg.tensor(a, requires_grad=True) for a in arrays]
    inputs = [leaf * 1.0 for leaf in leaves]  # not leaves, so they may change in place
    out = case.fn(pg, *inputs)
    outs = out if isinstance(out, (tuple, list)) else [out]
    outs = [o for o in outs if isinstance(o, pg.Tensor) and o.requires_grad]
    if not outs:
        return None
    weights = [np.random.default_rng(3).standard_normal(o.shape) for o in outs]
    loss = sum((o * pg.tensor(w, dtype=o.dtype)).sum() for o, w in zip(outs, weights))
    if change_at is not None:
        inputs[change_at].add_(0.25)
    loss.backward()
    return [None if leaf.grad is None else leaf.grad.numpy() for leaf in leaves]


@pytest.mark.parametrize("case", CASES, ids=[c.id or c.op for c in CASES])
def test_an_input_changed_in_place_stops_backward_or_does_not_matter(case):
    arrays = inputs_for(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clean = _run(case, arrays)
        if clean is None:
            pytest.skip("no differentiable output")
        for position in range(len(arrays)):
            try:
                changed = _run(case, arrays, change_at=position)
            except RuntimeError as error:
                message = str(error)
                assert "changed in place" in message and "version" in message, message
                continue
            for got, expected in zip(changed, clean):
                if expected is None:
                    continue
                np.testing.assert_allclose(
                    got,
                    expected,
                    rtol=1e-12,
                    atol=1e-12,
                    err_msg=f"{case.op}: input {position} changed in place, no error, and a "
                    "different gradient: a rule read it without saving it",
                )


def test_the_saved_output_error_names_both_versions():
    x = pg.ones(3, requires_grad=True) * 1
    y = x.exp()
    y.mul_(2)
    y.add_(1)
    with pytest.raises(RuntimeError, match="version 0 when saved, version 2 now"):
        y.sum().backward()


def _tensors_in(value) -> list:
    items = value if isinstance(value, (tuple, list)) else (value,)
    return [i for i in items if isinstance(i, pg.Tensor)]


def _arrays_in(value) -> list:
    items = value if isinstance(value, (tuple, list)) else (value,)
    return [i for i in items if isinstance(i, np.ndarray)]


def _recorded_nodes(case):
    from pathgrad.autodiff.grad_mode import use_variant
    from pathgrad.autodiff.toposort import reverse_topological_order

    previous = use_variant(keep_inputs=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            xs = [pg.tensor(a, requires_grad=True) for a in inputs_for(case)]
            out = case.fn(pg, *xs)
    finally:
        use_variant(**previous)
    outs = out if isinstance(out, (tuple, list)) else [out]
    roots = [o.grad_fn for o in outs if isinstance(o, pg.Tensor) and o.grad_fn is not None]
    return reverse_topological_order(roots)[0]


@pytest.mark.parametrize("case", CASES, ids=[c.id or c.op for c in CASES])
def test_every_saved_tensor_is_stated_and_no_rule_keeps_an_input_s_raw_memory(case):
    """Saved tensors are stated, not discovered (issue 16, item 3): a rule (or each of its
    per-input formulas) keeps tensors only as default arguments, which is what the version
    check reads, and keeps no input's memory as a raw array unless it saves that input."""
    for node in _recorded_nodes(case):
        args, kwargs = node.inputs
        inputs = [t for a in list(args) + list(kwargs.values()) for t in _tensors_in(a)]
        assert [id(t) for t in node.saved] == [
            id(t)
            for rule in (node.vjp if isinstance(node.vjp, tuple) else (node.vjp,))
            if rule is not None
            for value in rule.__defaults__ or ()
            for t in _tensors_in(value)
        ]
        for rule in node.vjp if isinstance(node.vjp, tuple) else (node.vjp,):
            if rule is None:
                continue
            saved = [id(t) for value in rule.__defaults__ or () for t in _tensors_in(value)]
            unsaved = [t for t in inputs if id(t) not in saved]
            kept = list(_cells(rule))
            kept += [("a default", value) for value in rule.__defaults__ or ()]
            for name, value in kept:
                if name != "a default":
                    assert not _tensors_in(value), (
                        f"{node.name} keeps the tensor {name!r} in its closure, where the "
                        "version check does not look: make it a default argument"
                    )
                for array in _arrays_in(value):
                    assert not any(np.shares_memory(array, t._data) for t in unsaved), (
                        f"{node.name} keeps the raw memory of an unsaved input in {name}"
                    )


def _cells(rule):
    for name, cell in zip(rule.__code__.co_freevars, rule.__closure__ or ()):
        try:
            contents = cell.cell_contents
        except ValueError:  # a variable not yet bound
            continue
        yield name, contents


MULTI_INPUT_CASES = [c for c in CASES if len(c.shapes) > 1]


@pytest.mark.parametrize("case", MULTI_INPUT_CASES, ids=[c.id or c.op for c in MULTI_INPUT_CASES])
def test_the_engine_runs_only_the_formulas_of_inputs_that_need_a_gradient(case):
    """PyTorch's grad-input mask (issue 16, item 3): with one input needing a gradient, every
    node keeps formulas only for inputs that need one, and that input's gradient is the one it
    gets when all of them need one."""
    arrays = inputs_for(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        everything = _gradients(case, arrays, range(len(arrays)))
        for position in range(len(arrays)):
            if everything[position] is None:
                continue
            alone = _gradients(case, arrays, [position])
            # composites may broadcast by other ops when fewer inputs need a gradient
            np.testing.assert_allclose(alone[position], everything[position], rtol=1e-12)


def _gradients(case, arrays, needing):
    xs = [pg.tensor(a, requires_grad=i in needing) for i, a in enumerate(arrays)]
    out = case.fn(pg, *xs)
    outs = out if isinstance(out, (tuple, list)) else [out]
    outs = [o for o in outs if isinstance(o, pg.Tensor) and o.requires_grad]
    if not outs:
        return [None] * len(xs)
    from pathgrad.autodiff.toposort import reverse_topological_order

    for node in reverse_topological_order([o.grad_fn for o in outs])[0]:
        if isinstance(node.vjp, tuple):
            for formula, parent in zip(node.vjp, node.parents):
                if parent is None:
                    assert formula is None, f"{node.name} kept a formula of an input it drops"
    weights = [np.random.default_rng(5).standard_normal(o.shape) for o in outs]
    sum((o * pg.tensor(w, dtype=o.dtype)).sum() for o, w in zip(outs, weights)).backward()
    return [None if x.grad is None else x.grad.numpy() for x in xs]


@pytest.mark.parametrize(
    "use",
    [
        lambda x, i: x[i],
        lambda x, i: x.gather(0, i),
        lambda x, i: pg.nn.functional.embedding(i, x),
    ],
    ids=["getitem", "gather", "embedding"],
)
def test_an_index_changed_in_place_after_the_forward_leaves_the_gradient_right(use):
    x = pg.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    index = pg.tensor([[0, 1, 2], [1, 1, 3]])
    out = use(x, index)
    index.add_(1)  # the rule read the positions before this
    out.sum().backward()
    expected = pg.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    use(expected, pg.tensor([[0, 1, 2], [1, 1, 3]])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), expected.grad.numpy())

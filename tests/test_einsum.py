"""einsum over random equations: repeated subscripts (diagonals), subscripts summed away,
`...` that broadcasts, size-1 dims, implicit and explicit outputs; gradients to second order."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pathgrad as pg
from pathgrad.errors import ShapeError

LETTERS = "abcd"


@st.composite
def equations(draw, ellipsis=True, broadcast=True):
    """(equation, operand shapes) that PyTorch accepts."""
    sizes = {letter: draw(st.integers(1, 3)) for letter in LETTERS}
    batch = draw(st.lists(st.integers(1, 3), max_size=2)) if ellipsis else []
    terms, shapes = [], []
    for _ in range(draw(st.integers(1, 3))):
        term = draw(st.lists(st.sampled_from(LETTERS), max_size=3))
        shape = [sizes[letter] for letter in term]
        if broadcast:
            # a subscript met once in this operand may be 1 there and broadcast
            shape = [
                1 if term.count(letter) == 1 and draw(st.booleans()) else size
                for letter, size in zip(term, shape)
            ]
        text = "".join(term)
        if batch and draw(st.booleans()):
            kept = batch[len(batch) - draw(st.integers(0, len(batch))) :]
            own = [1 if broadcast and draw(st.booleans()) else size for size in kept]
            position = draw(st.integers(0, len(term)))
            text = text[:position] + "..." + text[position:]
            shape = shape[:position] + own + shape[position:]
        terms.append(text)
        shapes.append(tuple(shape))
    equation = ",".join(terms)
    if draw(st.booleans()):
        used = sorted(set("".join(terms)) - {"."})
        output = draw(st.permutations(used))[: draw(st.integers(0, len(used)))]
        ellipsis_out = "..." if any("..." in t for t in terms) and draw(st.booleans()) else ""
        equation += "->" + ellipsis_out + "".join(output)
    return equation, shapes


def _inputs(shapes, seed):
    rng = np.random.default_rng(seed)
    return [pg.tensor(rng.uniform(-1.5, 1.5, size=s), requires_grad=True) for s in shapes]


@settings(max_examples=60, deadline=None)
@given(case=equations(ellipsis=False, broadcast=False), seed=st.integers(0, 2**16))
def test_einsum_matches_numpy_and_its_gradients_match_differences(case, seed):
    equation, shapes = case
    inputs = _inputs(shapes, seed)
    out = pg.einsum(equation, *inputs)
    expected = np.einsum(equation, *(t.numpy() for t in inputs))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    assert pg.gradcheck(lambda *xs: pg.einsum(equation, *xs), inputs)


@settings(max_examples=25, deadline=None)
@given(case=equations(), seed=st.integers(0, 2**16))
def test_einsum_second_order_over_broadcasts(case, seed):
    equation, shapes = case
    inputs = _inputs(shapes, seed)
    assert pg.gradgradcheck(lambda *xs: pg.einsum(equation, *xs), inputs)


@settings(max_examples=80, deadline=None)
@given(
    case=equations(),
    seed=st.integers(0, 2**16),
    frozen=st.lists(st.booleans(), min_size=3, max_size=3),
)
def test_einsum_values_and_gradients_match_pytorch(case, seed, frozen):
    """Some operands need no gradient (so are not expanded to the full sizes): a broadcast
    operand must not narrow another's gradient."""
    torch = pytest.importorskip("torch")
    equation, shapes = case
    inputs = _inputs(shapes, seed)
    if not all(frozen[: len(inputs)]):
        inputs = [t.detach() if off else t for t, off in zip(inputs, frozen)]
    theirs = [torch.tensor(t.numpy(), requires_grad=t.requires_grad) for t in inputs]
    out = pg.einsum(equation, *inputs)
    expected = torch.einsum(equation, *theirs)
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    seed_grad = np.random.default_rng(seed + 1).standard_normal(out.shape)
    out.backward(pg.tensor(seed_grad))
    expected.backward(torch.tensor(seed_grad))
    for ours, reference in zip(inputs, theirs):
        if ours.requires_grad:
            np.testing.assert_allclose(
                ours.grad.numpy(), reference.grad.numpy(), rtol=1e-12, atol=1e-12
            )


def test_einsum_forms_of_call_agree():
    a, b = pg.randn(2, 3), pg.randn(3, 4)
    expected = (a @ b).numpy()
    for result in (
        pg.einsum("ij,jk->ik", a, b),
        pg.einsum("ij,jk", [a, b]),
        pg.einsum(" i j , j k -> i k ", a, b),
        pg.einsum(a, [0, 1], b, [1, 2], [0, 2]),
        pg.einsum(a, [Ellipsis, 1], b, [1, 2]),
    ):
        np.testing.assert_allclose(result.numpy(), expected, rtol=1e-6)


def test_einsum_keeps_float32_and_promotes_as_numpy():
    a32 = pg.ones(2, 3)
    assert pg.einsum("ij->j", a32).dtype == pg.float32
    mixed = pg.einsum("ij,j->i", a32, pg.ones(3, dtype=pg.float64, requires_grad=True))
    assert mixed.dtype == pg.float64


def test_einsum_output_owns_its_memory():
    # NumPy's einsum returns views for transposes and diagonals; an op's output must not alias
    a = pg.arange(9.0).reshape(3, 3)
    for equation in ("ij->ji", "ii->i", "ij"):
        out = pg.einsum(equation, a)
        out.add_(1.0)
        np.testing.assert_array_equal(a.numpy(), np.arange(9.0).reshape(3, 3))


def test_einsum_subscripts_summed_in_outputs_gradient_is_constant_along_them():
    # d/dx of sum_ij x_ij y_j is y_j in every row: the dim only x has comes back by broadcast
    x = pg.randn(2, 3, requires_grad=True)
    y = pg.randn(3)
    pg.einsum("ij,j->", x, y).backward()
    np.testing.assert_allclose(x.grad.numpy(), np.broadcast_to(y.numpy(), (2, 3)))


def test_einsum_trace_gradient_is_the_identity():
    x = pg.randn(4, 4, requires_grad=True)
    pg.einsum("ii", x).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.eye(4, dtype=np.float32))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: pg.einsum("ii", pg.ones(2, 3)), "subscript i is repeated in operand 0"),
        (
            lambda: pg.einsum("ij,jk", pg.ones(2, 3), pg.ones(4, 5)),
            "subscript j has size 4 in operand 1 (shape (4, 5)) and 3 before it",
        ),
        (lambda: pg.einsum("ij,jk", pg.ones(2, 3)), "subscripts for 2 operands, got 1"),
        (lambda: pg.einsum("ij", pg.ones(2, 3, 4)), "shape (2, 3, 4), but its subscripts 'ij'"),
        (lambda: pg.einsum("...ij", pg.ones(2)), "shape (2,), but its subscripts '...ij'"),
        (lambda: pg.einsum("ij->k", pg.ones(2, 3)), "output subscript k is in no operand"),
        (lambda: pg.einsum("ij->ii", pg.ones(2, 3)), "output subscript i appears more than once"),
        (lambda: pg.einsum("i.j", pg.ones(2, 3)), "subscripts are letters"),
        (lambda: pg.einsum("i1", pg.ones(2, 3)), "subscripts are letters"),
        (lambda: pg.einsum(pg.ones(2), [52]), "sublist labels are ints in [0, 52)"),
    ],
)
def test_einsum_bad_input_names_the_op_the_line_and_the_fault(call, message):
    with pytest.raises(ShapeError) as error:
        call()
    text = str(error.value)
    assert text.startswith("einsum at test_einsum.py:")
    assert message in text


def test_einsum_without_an_equation_is_a_type_error():
    with pytest.raises(TypeError, match="einsum"):
        pg.einsum()

"""gradcheck itself: it passes right rules and names the op whose rule is wrong."""

import numpy as np
import pytest

import pathgrad as pg
from pathgrad.ops import elementwise


def test_gradcheck_accepts_float32_inputs_and_checks_in_float64():
    x = pg.randn(3, 4, requires_grad=True)  # float32
    assert pg.gradcheck(lambda x: (x.tanh() * x).sum(1), (x,))


def test_gradcheck_names_input_element_values_and_the_faulty_rule(monkeypatch):
    definition = elementwise.sin.definition
    forward = definition.forward

    def wrong_sin(x):
        out, _ = forward(x)
        return out, lambda grad: grad * x  # d sin should be cos x

    monkeypatch.setattr(definition, "forward", wrong_sin)
    x = pg.tensor([0.3, -0.7], dtype=pg.float64, requires_grad=True)
    y = pg.tensor([1.5, 2.0], dtype=pg.float64, requires_grad=True)
    with pytest.raises(pg.GradcheckError) as error:
        pg.gradcheck(lambda x, y: (x.sin() * y).exp(), (x, y))
    message = str(error.value)
    assert "input 0, element (0,)" in message
    assert "rule of 'sin' is at fault" in message


def test_gradcheck_returns_false_without_raising_when_asked(monkeypatch):
    definition = elementwise.exp.definition
    forward = definition.forward
    monkeypatch.setattr(
        definition, "forward", lambda x: (forward(x)[0], lambda grad, out: grad * 2.0)
    )
    x = pg.tensor([0.3], dtype=pg.float64, requires_grad=True)
    assert pg.gradcheck(lambda x: x.exp(), (x,), raise_exception=False) is False


def test_gradcheck_sees_a_missing_broadcast_reduction():
    # a hand-made op that forgets to sum a broadcast gradient is caught by the engine check
    x = pg.tensor(np.ones((2, 3)), requires_grad=True)
    c = pg.tensor(np.ones(3), requires_grad=True)
    assert pg.gradcheck(lambda x, c: x * c, (x, c))


@pytest.mark.parametrize(
    "matrix",
    [
        [[1.0, 2.0], [2.0, 4.0]],  # rank 1: the gradient is the adjugate, not zero
        [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]],  # rank 2
        [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [4.0, 5.0, 6.5]],  # a zero row
    ],
)
def test_det_at_singular_matrices_has_the_true_derivative(matrix):
    # det is a polynomial, so differences are exact up to rounding; PyTorch 2.13 gives zeros
    # for the first matrix
    a = pg.tensor(matrix, dtype=pg.float64, requires_grad=True)
    assert pg.linalg.det(a).item() == pytest.approx(0.0, abs=1e-12)
    assert pg.gradcheck(pg.linalg.det, (a,))


def test_logdet_of_a_singular_matrix_is_minus_infinity_with_infinite_gradients():
    # as PyTorch: the derivative of log|det| is adj(A)^T / det A, and det A is 0 (the signs of
    # the infinities follow the sign of that zero, which differs between LU implementations)
    a = pg.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=pg.float64, requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pg.logdet(a)
        out.backward()
    assert out.item() == -np.inf
    assert np.isinf(a.grad.numpy()).all()

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

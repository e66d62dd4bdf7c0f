"""detect_anomaly: the first NaN or Inf, forward or backward, names the op and the line."""

import sys

import numpy as np
import pytest

import pathgrad as pg
from pathgrad.autodiff import backprop
from pathgrad.autodiff.grad_mode import engine

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def test_forward_inf_names_op_line_and_the_where_trap():
    x = pg.tensor([0.0, 1.0], requires_grad=True)
    with pytest.raises(pg.autograd.AnomalyError) as error:
        with pg.autograd.detect_anomaly():
            pg.where(x > 0, x.log(), 0.0)  # log(0) = -inf in the masked branch
    message = str(error.value)
    assert message.startswith("log at test_anomaly.py:")
    assert "-inf" in message and "where trap" in message and "where(x > 0" in message


def test_backward_nan_names_the_rule_and_explains_the_trap():
    x = pg.tensor([0.0, 4.0], requires_grad=True)
    y = pg.where(x > 0, x.sqrt(), 0.0)  # forward finite: sqrt(0) = 0
    with pytest.raises(pg.autograd.AnomalyError) as error:
        with pg.autograd.detect_anomaly():
            y.sum().backward()
    message = str(error.value)
    assert "rule of sqrt" in message and "NaN" in message
    assert "incoming gradient is 0 exactly where" in message


def test_backward_nan_reports_where_the_op_was_made():
    with pg.autograd.detect_anomaly():
        x = pg.tensor([0.0, 4.0], requires_grad=True)
        y = pg.where(x > 0, x.sqrt(), 0.0)
        with pytest.raises(
            pg.autograd.AnomalyError, match=r"sqrt \(made at test_anomaly\.py:\d+\)"
        ):
            y.sum().backward()


def test_every_node_made_under_anomaly_mode_knows_its_line():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = x + 1  # add keeps nothing, so outside anomaly mode it needs no line
    assert y.grad_fn.site == ""
    with pg.autograd.detect_anomaly():
        line = sys._getframe().f_lineno + 1
        z = (x + 1).sum()
    assert z.grad_fn.parents[0].site == f"test_anomaly.py:{line}"


def test_without_anomaly_mode_the_trap_gives_nan_silently():
    x = pg.tensor([0.0, 4.0], requires_grad=True)
    pg.where(x > 0, x.sqrt(), 0.0).sum().backward()
    assert np.isnan(x.grad.numpy()[0])


def test_the_safe_form_passes_anomaly_mode():
    with pg.autograd.detect_anomaly():
        x = pg.tensor([0.0, 4.0], requires_grad=True)
        safe = pg.where(x > 0, x, 1.0)
        pg.where(x > 0, safe.sqrt(), 0.0).sum().backward()
    assert x.grad.tolist() == [0.0, 0.25]


def test_set_detect_anomaly_and_free_when_off():
    from pathgrad.dispatch import apply

    pg.autograd.set_detect_anomaly(True)
    try:
        assert pg.autograd.is_anomaly_enabled()
        assert engine.apply is not apply
    finally:
        pg.autograd.set_detect_anomaly(False)
    # off means the plain engine itself, not a flag tested on every op
    assert engine.apply is apply and engine.run_rule is backprop.run_rule
    assert not pg.autograd.is_anomaly_enabled()


def test_nan_already_in_the_input_is_not_blamed_on_the_op():
    with pg.autograd.detect_anomaly():
        x = pg.tensor([np.nan, 1.0], requires_grad=True)
        y = x * 2  # NaN in, NaN out: the op is not the source
    assert np.isnan(y.numpy()[0])

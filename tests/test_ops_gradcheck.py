"""Every registered op is gradchecked in float64, from one table of cases."""

import numpy as np
import pytest

import pathgrad as pg
from conftest import graph_op_names
from op_cases import ALL_CASES, CASES, inputs_for


def test_every_differentiable_op_has_a_case():
    registered = {name for name, d in pg.REGISTRY.items() if d.differentiable}
    covered = {case.op for case in CASES}
    missing = registered - covered
    assert not missing, f"registered ops with no gradcheck case: {sorted(missing)}"


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.id)
def test_gradcheck(case):
    inputs = [pg.tensor(a, dtype=pg.float64, requires_grad=True) for a in inputs_for(case)]
    assert pg.gradcheck(lambda *xs: case.fn(pg, *xs), inputs, eps=case.eps, atol=case.tolerance)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case_records_its_op(case):
    """A case that never runs its op would check nothing."""
    inputs = [pg.tensor(a, dtype=pg.float64, requires_grad=True) for a in inputs_for(case)]
    out = case.fn(pg, *inputs)
    assert case.op in graph_op_names(out)


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.id)
def test_float32_gradients_keep_dtype(case):
    inputs = [pg.tensor(a, dtype=pg.float32, requires_grad=True) for a in inputs_for(case)]
    out = case.fn(pg, *inputs)
    out.sum().backward() if out.dtype == np.float32 else out.float().sum().backward()
    for x in inputs:
        assert x.grad is None or (x.grad.dtype == np.float32 and x.grad.shape == x.shape)

"""The special functions against mpmath (an arbitrary-precision oracle, installed with
PyTorch's sympy; skipped without it), and their edge values against PyTorch."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pathgrad as pg

FINITE = st.floats(-40, 60, allow_nan=False).filter(lambda v: not (v <= 0 and v == math.floor(v)))


def _relative_error(ours, true):
    if math.isinf(true):
        return 0.0 if ours == true else math.inf
    return abs(ours - true) / max(abs(true), 1e-300)


@settings(max_examples=200, deadline=None)
@given(FINITE)
def test_lgamma_and_digamma_to_double_precision(x):
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    value = pg.tensor([x], dtype=pg.float64)
    assert _relative_error(pg.lgamma(value).item(), float(mpmath.loggamma(x).real)) < 1e-13 or (
        abs(pg.lgamma(value).item() - float(mpmath.loggamma(x).real)) < 1e-14
    )
    true = float(mpmath.digamma(x))
    ours = pg.digamma(value).item()
    assert ours == true if math.isinf(true) else abs(ours - true) <= 1e-14 * max(1.0, abs(true))


@settings(max_examples=200, deadline=None)
@given(FINITE, st.integers(1, 5))
def test_polygamma_to_double_precision(x, n):
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    ours = pg.polygamma(n, pg.tensor([x], dtype=pg.float64)).item()
    assert _relative_error(ours, float(mpmath.polygamma(n, x))) < 1e-13


@settings(max_examples=100, deadline=None)
@given(st.floats(-1e4, -40).filter(lambda v: v != math.floor(v)), st.integers(1, 4))
def test_polygamma_far_below_zero_by_reflection(x, n):
    # the reflection formula subtracts pi d^n/dx^n cot(pi x) from a small smooth part, so the
    # error is ~1e-15 of the cot term, not of a result that may be far smaller (half-integers)
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    ours = pg.polygamma(n, pg.tensor([x], dtype=pg.float64)).item()
    true = float(mpmath.polygamma(n, x))
    scale = float(abs(mpmath.pi ** (n + 1) * mpmath.diff(mpmath.cot, mpmath.pi * x, n)))
    assert abs(ours - true) <= 1e-13 * max(abs(true), scale, 1.0)


@settings(max_examples=300, deadline=None)
@given(st.floats(-1, 1, exclude_min=True, exclude_max=True))
def test_erfinv_to_double_precision(y):
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    ours = pg.erfinv(pg.tensor([y], dtype=pg.float64)).item()
    true = float(mpmath.erfinv(y))
    assert abs(ours - true) <= 4e-16 * abs(true) + 1e-300


def test_edge_values_as_pytorch():
    torch = pytest.importorskip("torch")
    edges = [0.0, -1.0, -2.0, 1.0, 2.0, float("inf"), float("nan"), -0.5, 1e-300, 1e306, -1e308]
    ours, theirs = pg.tensor(edges, dtype=pg.float64), torch.tensor(edges, dtype=torch.float64)
    for name in ("lgamma", "digamma"):
        np.testing.assert_allclose(
            getattr(pg, name)(ours).numpy(),
            getattr(torch, name)(theirs).numpy(),
            rtol=1e-14,  # both within a few units in the last place of mpmath's values
            err_msg=name,
        )
    bounds = [-1.0, 1.0, 0.0, 1.5, -2.0, float("nan")]
    np.testing.assert_array_equal(
        pg.erfinv(pg.tensor(bounds, dtype=pg.float64)).numpy(),
        torch.erfinv(torch.tensor(bounds, dtype=torch.float64)).numpy(),
    )
    # polygamma at 0 is an infinity of the sign (-1)^(n+1), as PyTorch's
    for n in (1, 2, 3):
        assert (
            pg.polygamma(n, pg.tensor([0.0])).item()
            == torch.polygamma(n, torch.tensor([0.0])).item()
        )


def test_special_namespace_matches_pytorch():
    torch = pytest.importorskip("torch")
    values = np.array([0.1, 0.5, 0.9, 0.25])

    def run(L):
        x = L.tensor(values, dtype=L.float64)
        s = L.special
        return [
            np.round(t.tolist(), 12).tolist()
            for t in (
                s.ndtr(x * 4 - 2),
                s.ndtri(x),
                s.gammaln(x * 10),
                s.psi(x + 1),
                s.expit(x),
                s.multigammaln(x + 3, 2),
                s.erfinv(x - 0.5),
            )
        ]

    assert run(pg) == run(torch)

"""The transforms against torch.func, where PyTorch is installed."""

import numpy as np
import pytest

import pathgrad as pg

torch = pytest.importorskip("torch")


def f_pg(x):
    return (x.tanh() * x.sin()).sum() + (x[0] * x[2]) ** 2


def f_torch(x):
    return (x.tanh() * x.sin()).sum() + (x[0] * x[2]) ** 2


def g_pg(x):
    return pg.stack([x.exp().sum(), (x * x).prod(), x.softmax(0)[1]])


def g_torch(x):
    return torch.stack([x.exp().sum(), (x * x).prod(), x.softmax(0)[1]])


X = np.array([0.3, -0.7, 1.1])


def test_hessian_matches_torch_func():
    expected = torch.func.hessian(f_torch)(torch.tensor(X)).numpy()
    np.testing.assert_allclose(pg.hessian(f_pg)(X), expected, rtol=1e-12, atol=1e-12)


def test_jacrev_matches_torch_func():
    expected = torch.func.jacrev(g_torch)(torch.tensor(X)).numpy()
    np.testing.assert_allclose(pg.jacrev(g_pg)(X), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(pg.jacobian(g_pg)(X), expected, rtol=1e-12, atol=1e-12)


def test_jvp_matches_torch_func():
    t = np.array([1.0, -0.5, 0.25])
    value, tangent = torch.func.jvp(g_torch, (torch.tensor(X),), (torch.tensor(t),))
    ours_value, ours_tangent = pg.jvp(g_pg, (X,), (t,))
    np.testing.assert_allclose(ours_value, value.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours_tangent, tangent.numpy(), rtol=1e-12, atol=1e-12)

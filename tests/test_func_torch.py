"""The transforms against torch.func, where PyTorch is installed."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


P = {"w": np.array([[0.5, -1.0], [0.2, 0.3], [-0.4, 0.8]]), "b": np.array([0.1, -0.2])}
XS = np.array([[0.3, -0.7, 1.1], [0.5, 0.2, -0.9], [-1.2, 0.4, 0.6], [0.0, 1.0, -0.3]])


def layer_loss(L, p, x):
    h = (x @ p["w"] + p["b"]).tanh()
    return (h * h).sum()


def layer_outputs(L, p, x):
    h = x @ p["w"] + p["b"]
    return {"h": h.tanh(), "s": (h * h).sum()}, h.sum(0)


def _flat(tree):
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in _flat(tree[key])]
    if isinstance(tree, (tuple, list)):
        return [leaf for item in tree for leaf in _flat(item)]
    return [np.asarray(tree.detach().numpy() if hasattr(tree, "detach") else tree)]


def test_hessian_over_a_dict_of_parameters_matches_torch_func():
    ours = pg.hessian(lambda p, x: layer_loss(pg, p, x))(P, XS)
    theirs = torch.func.hessian(lambda p, x: layer_loss(torch, p, x))(
        {k: torch.tensor(v) for k, v in P.items()}, torch.tensor(XS)
    )
    assert set(ours) == {"w", "b"} and set(ours["w"]) == {"w", "b"}
    for mine, reference in zip(_flat(ours), _flat(theirs)):
        np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("ours, theirs", [("jacrev", "jacrev"), ("jacfwd", "jacfwd")])
def test_jacobians_of_structured_outputs_match_torch_func(ours, theirs):
    mine = getattr(pg, ours)(lambda p, x: layer_outputs(pg, p, x), argnums=(0, 1))(P, XS)
    reference = getattr(torch.func, theirs)(
        lambda p, x: layer_outputs(torch, p, x), argnums=(0, 1)
    )({k: torch.tensor(v) for k, v in P.items()}, torch.tensor(XS))
    flat_mine, flat_reference = _flat(mine), _flat(reference)
    assert len(flat_mine) == len(flat_reference) == 9
    for a, b in zip(flat_mine, flat_reference):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 3),
    st.integers(2, 5),
    st.integers(0, 1),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_prod_hessian_with_zeros_matches_torch_func(rows, cols, dim, keepdim, seed):
    rng = np.random.default_rng(seed)
    # nonzeros kept away from 0, where the no-zero rule's out / x leaves roundoff in the tie
    x = rng.uniform(0.5, 2.0, (rows, cols)) * rng.choice([-1.0, 1.0], (rows, cols))
    x[rng.random(x.shape) < 0.45] = 0.0  # often two or more zeros in one product
    weights = np.linspace(1.0, 2.0, x.prod(dim, keepdims=keepdim).size)
    weights = weights.reshape(x.prod(dim, keepdims=keepdim).shape)

    def weighted(lib, t):
        return (t.prod(dim, keepdim=keepdim) * lib.tensor(weights)).sum()

    expected = torch.func.hessian(lambda t: weighted(torch, t))(torch.tensor(x)).numpy()
    actual = pg.hessian(lambda t: weighted(pg, t))(x)
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12)

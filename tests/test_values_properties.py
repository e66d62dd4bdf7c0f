"""Property-based values: random inputs, random dims, forward and gradients against PyTorch."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import pathgrad as pg

torch = pytest.importorskip("torch")

FINITE = st.floats(-20, 20, allow_nan=False, width=64)
POSITIVE = st.floats(0.01, 20, allow_nan=False, width=64)

UNARY = {
    "exp": (lambda x: x.exp(), FINITE),
    "log": (lambda x: x.log(), POSITIVE),
    "log1p": (lambda x: x.log1p(), POSITIVE),
    "sqrt": (lambda x: x.sqrt(), POSITIVE),
    "sin": (lambda x: x.sin(), FINITE),
    "cos": (lambda x: x.cos(), FINITE),
    "tanh": (lambda x: x.tanh(), FINITE),
    "sigmoid": (lambda x: x.sigmoid(), FINITE),
    "relu": (lambda x: x.relu(), FINITE),
    "abs": (lambda x: x.abs(), FINITE),
    "erf": (lambda x: x.erf(), FINITE),
    "neg": (lambda x: -x, FINITE),
    "square": (lambda x: x * x, FINITE),
}


def _compare(fn, data, weights_seed=0, lib_fn=None):
    ours = pg.tensor(data, requires_grad=True)
    theirs = torch.tensor(data, requires_grad=True)
    out, expected = fn(ours), (lib_fn or fn)(theirs)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    weights = np.random.default_rng(weights_seed).standard_normal(out.shape)
    (out * pg.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(UNARY))
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_unary_values_and_gradients(name, data):
    fn, elements = UNARY[name]
    shape = data.draw(array_shapes(min_dims=0, max_dims=3, max_side=4))
    values = data.draw(arrays(np.float64, shape, elements=elements))
    _compare(fn, values)


REDUCTIONS = {
    "sum": lambda x, dim, keep: x.sum(dim, keepdim=keep),
    "mean": lambda x, dim, keep: x.mean(dim, keepdim=keep),
    "amax": lambda x, dim, keep: x.amax(dim, keepdim=keep),
    "logsumexp": lambda x, dim, keep: x.logsumexp(dim, keepdim=keep),
    "var": lambda x, dim, keep: x.var(dim, keepdim=keep),
    "std": lambda x, dim, keep: x.std(dim, keepdim=keep),
    "norm": lambda x, dim, keep: x.norm(dim=dim, keepdim=keep),
    "prod": lambda x, dim, keep: x.prod(dim[0], keepdim=keep),
    "softmax": lambda x, dim, keep: x.softmax(dim[0]),
    "log_softmax": lambda x, dim, keep: x.log_softmax(dim[0]),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@settings(max_examples=30, deadline=None)
@given(data=st.data(), keep=st.booleans())
def test_reductions_over_random_dims(name, data, keep):
    shape = data.draw(array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
    # distinct values: no ties for amax, no zero spread for std
    values = (
        np.random.default_rng(data.draw(st.integers(0, 2**16)))
        .permutation(np.linspace(-3, 3, int(np.prod(shape))))
        .reshape(shape)
    )
    dims = data.draw(
        st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True)
    )
    fn = REDUCTIONS[name]
    # torch.norm takes at most two dims; its vector_norm is the same 2-norm over any dims
    theirs = (
        (lambda x: torch.linalg.vector_norm(x, dim=tuple(dims), keepdim=keep))
        if name == "norm"
        else None
    )
    _compare(lambda x: fn(x, tuple(dims), keep), values, lib_fn=theirs)

"""sort, argsort and topk against PyTorch: values, positions and gradients, along any dim, with
ties and NaN (compared with PyTorch's stable sort, which pathgrad's always is)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import pathgrad as pg


@st.composite
def sortable(draw, distinct=False):
    shape = draw(array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    if distinct:  # topk's order among ties is PyTorch's to choose
        data = rng.permutation(int(np.prod(shape))).reshape(shape) / 4.0
    else:
        data = rng.integers(-2, 3, size=shape).astype(np.float64)  # many ties
        data[rng.random(shape) < 0.1] = np.nan
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    return data, dim


def compare(data, work):
    torch = pytest.importorskip("torch")
    results = []
    for L in (pg, torch):
        x = L.tensor(data, requires_grad=True)
        values, indices = work(L, x)
        finite = L.where(values == values, values, L.zeros_like(values))  # NaN out of the sum
        weights = L.tensor(np.arange(float(values.numel())).reshape(tuple(values.shape)))
        (finite * weights).sum().backward()
        results.append((values.detach().numpy(), indices.numpy(), x.grad.numpy()))
    (ours_v, ours_i, ours_g), (their_v, their_i, their_g) = results
    np.testing.assert_array_equal(ours_i, their_i)
    np.testing.assert_array_equal(ours_v, their_v)  # NaN in the same places
    np.testing.assert_array_equal(ours_g, their_g)


@settings(max_examples=150, deadline=None)
@given(sortable(), st.booleans())
def test_sort_matches_pytorchs_stable_sort(case, descending):
    data, dim = case
    compare(data, lambda L, x: tuple(L.sort(x, dim=dim, descending=descending, stable=True)))


@settings(max_examples=100, deadline=None)
@given(sortable(distinct=True), st.booleans(), st.data())
def test_topk_matches_pytorch(case, largest, draw):
    data, dim = case
    k = draw.draw(st.integers(0, data.shape[dim]))
    compare(data, lambda L, x: tuple(x.topk(k, dim=dim, largest=largest)))


def test_argsort_and_refusals():
    x = pg.tensor([[3.0, 1.0, 2.0]])
    assert x.argsort().tolist() == [[1, 2, 0]] and x.argsort(descending=True).tolist() == [
        [0, 2, 1]
    ]
    # a RuntimeError, as PyTorch's "selected index k out of range"
    with pytest.raises(RuntimeError, match=r"^topk at test_sort_torch\.py:\d+: k \(4\) is out of"):
        x.topk(4)
    with pytest.raises(IndexError, match=r"argsort at .*dim 2 is out of range"):
        x.argsort(2)

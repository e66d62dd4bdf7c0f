"""Random indices (ints, slices, None, ..., integer lists, masks, in any mix) read and written
on a (3, 4, 5) tensor, in pathgrad and in PyTorch: the same result shape, values and gradients.
PyTorch applies integers before arrays where NumPy would not (see index.torch_order)."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import pathgrad as pg

SHAPE = (3, 4, 5)


@st.composite
def indices(draw):
    items, dims, ellipsis = [], 0, False
    for _ in range(draw(st.integers(2, 4))):
        size = SHAPE[min(dims, 2)]
        kind = draw(st.sampled_from(["int", "slice", "slice", "array", "mask", "none", "..."]))
        if kind == "int":
            items.append(draw(st.integers(-size, size - 1)))
        elif kind == "slice":
            bound = st.one_of(st.none(), st.integers(-size, size))
            items.append(slice(draw(bound), draw(bound), draw(st.sampled_from([None, 1, 2, 3]))))
        elif kind == "array":
            items.append(
                ("array", draw(st.lists(st.integers(-size, size - 1), min_size=1, max_size=4)))
            )
        elif kind == "mask":
            items.append(("mask", draw(st.lists(st.booleans(), min_size=size, max_size=size))))
        elif kind == "none":
            items.append(None)
            continue
        elif not ellipsis:
            ellipsis = True
            items.append(Ellipsis)
            continue
        dims += 1
        if dims == 3:
            break
    return items


def realize(L, items):
    return tuple(L.tensor(item[1]) if isinstance(item, tuple) else item for item in items)


def read(L, items, values):
    x = L.tensor(values, requires_grad=True)
    try:
        y = x[realize(L, items)]
    except (IndexError, ValueError, RuntimeError):
        return None
    weights = L.tensor(np.arange(float(max(y.numel(), 1)))[: y.numel()].reshape(tuple(y.shape)))
    (y * weights).sum().backward()
    return np.asarray(y.detach().numpy()), x.grad.numpy().copy()


# an integer apart from an array, and an ... that takes no dims between arrays: the two places
# where NumPy and PyTorch order the result's dims differently
SEPARATED = [0, slice(None), ("array", [1, 3])]
EMPTY_ELLIPSIS = [slice(None), ("array", [1, 2]), Ellipsis, ("array", [0])]


@settings(max_examples=300, deadline=None)
@given(indices(), st.integers(0, 2**16))
@example(SEPARATED, 0)
@example(EMPTY_ELLIPSIS, 0)
def test_random_indices_read_as_in_pytorch(items, seed):
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(seed).standard_normal(SHAPE)
    ours, theirs = read(pg, items, values), read(torch, items, values)
    assert (ours is None) == (theirs is None)
    if ours is not None:
        assert ours[0].shape == theirs[0].shape
        np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)


def write(L, items, values, seed):
    a = L.tensor(values, requires_grad=True)
    x = a * 1
    index = realize(L, items)
    try:
        shape = tuple(x[index].shape)
    except (IndexError, ValueError, RuntimeError):
        return None
    v = L.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)
    x[index] = v * 2
    (x * x).sum().backward()
    return x.detach().numpy().copy(), a.grad.numpy().copy(), v.grad


@settings(max_examples=200, deadline=None)
@given(indices(), st.integers(0, 2**16))
@example(SEPARATED, 0)
@example(EMPTY_ELLIPSIS, 0)
def test_random_indices_written_as_in_pytorch(items, seed):
    torch = pytest.importorskip("torch")
    for item in items:  # a position written twice keeps one write, which one is undefined
        if isinstance(item, tuple) and item[0] == "array":
            positions = [i % SHAPE[0] for i in item[1]]
            if len(set(positions)) != len(positions) or len(set(item[1])) != len(item[1]):
                return
    values = np.random.default_rng(seed).standard_normal(SHAPE)
    ours, theirs = write(pg, items, values, seed), write(torch, items, values, seed)
    assert (ours is None) == (theirs is None)
    if ours is None:
        return
    for mine, reference in zip(ours[:2], theirs[:2]):
        np.testing.assert_allclose(mine, reference, rtol=1e-12)
    np.testing.assert_allclose(ours[2].numpy(), theirs[2].numpy(), rtol=1e-12)

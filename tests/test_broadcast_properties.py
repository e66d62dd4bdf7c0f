"""Property-based: every binary op and batched matmul, over broadcast-compatible shapes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays, mutually_broadcastable_shapes

import pathgrad as pg

BINARY = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y,
    "pow": lambda x, y: x**y,
    "maximum": pg.maximum,
    "minimum": pg.minimum,
    "where": lambda x, y: pg.where(x > y, x, y * 2),
    "atan2": pg.atan2,
    "hypot": pg.hypot,
    "fmod": pg.fmod,
    "logaddexp": pg.logaddexp,
    "logaddexp2": pg.logaddexp2,
    "xlogy": pg.xlogy,
    "fmax": pg.fmax,
    "fmin": pg.fmin,
    "lerp": lambda x, y: pg.lerp(x, y, 0.3),
    "addcmul": lambda x, y: pg.addcmul(x, x, y, value=0.5),
    "addcdiv": lambda x, y: pg.addcdiv(y, x, y, value=2.0),
    "einsum": lambda x, y: pg.einsum("...,...->...", x, y),
}
POSITIVE_ONLY = {"div", "pow", "xlogy", "addcdiv", "atan2"}  # atan2: off its branch cut


def _values(shape, seed, positive):
    """Distinct values on a grid, so maximum, minimum and where meet no ties within eps."""
    count = int(np.prod(shape))
    rng = np.random.default_rng(seed)
    low, high = (0.5, 2.0) if positive else (-2.0, 2.0)
    return (low + (high - low) * (rng.permutation(count) + 0.5) / count).reshape(shape)


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=25, deadline=None)
@given(
    shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3),
    seed=st.integers(0, 2**16),
)
def test_binary_op_gradients_over_broadcast_shapes(name, shapes, seed):
    x_shape, y_shape = shapes.input_shapes
    positive = name in POSITIVE_ONLY
    x = pg.tensor(_values(x_shape, seed, positive), requires_grad=True)
    y = pg.tensor(_values(y_shape, seed + 1, positive) + 0.01234, requires_grad=True)
    out = BINARY[name](x, y)
    assert out.shape == shapes.result_shape
    assert pg.gradcheck(BINARY[name], (x, y))


@settings(max_examples=40, deadline=None)
@given(
    batch=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3),
    n=st.integers(1, 3),
    k=st.integers(1, 3),
    m=st.integers(1, 3),
    vector=st.sampled_from(["none", "left", "right", "both"]),
    seed=st.integers(0, 2**16),
)
def test_batched_matmul_over_broadcast_batch_dims(batch, n, k, m, vector, seed):
    rng = np.random.default_rng(seed)
    a_shape = (k,) if vector in ("left", "both") else batch.input_shapes[0] + (n, k)
    b_shape = (k,) if vector in ("right", "both") else batch.input_shapes[1] + (k, m)
    A, B = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    a, b = pg.tensor(A, requires_grad=True), pg.tensor(B, requires_grad=True)
    out = a @ b
    np.testing.assert_allclose(out.numpy(), A @ B, rtol=1e-12, atol=1e-12)
    assert pg.gradcheck(lambda a, b: a @ b, (a, b))


@settings(max_examples=30, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3))
def test_sum_to_shape_undoes_broadcast_to(shapes):
    small, _ = shapes.input_shapes
    big = shapes.result_shape
    x = pg.ones(small, dtype=pg.float64, requires_grad=True)
    x.broadcast_to(big).sum().backward()
    # each element of x was copied prod(big)/prod(small) times
    assert x.grad.shape == small
    np.testing.assert_allclose(
        x.grad.numpy(), np.full(small, np.prod(big) / max(np.prod(small), 1))
    )


@settings(max_examples=30, deadline=None)
@given(
    data=arrays(
        np.float64, st.tuples(st.integers(1, 4), st.integers(1, 4)), elements=st.floats(-1e4, 1e4)
    )
)
def test_float32_and_float64_mixed_give_each_its_own_dtype(data):
    x = pg.tensor(data.astype(np.float32), requires_grad=True)
    y = pg.tensor(data, requires_grad=True)
    out = x * 2 + y
    assert out.dtype == np.float64  # NumPy 2 promotion
    out.sum().backward()
    assert x.grad.dtype == np.float32 and y.grad.dtype == np.float64

"""Tensor basics: dtypes as PyTorch's, factories, conversions, repr."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pathgrad as pg


def test_python_floats_become_float32_and_ints_int64():
    assert pg.tensor([1.0, 2.0]).dtype == np.float32
    assert pg.tensor([1, 2]).dtype == np.int64
    assert pg.tensor(3.5).dtype == np.float32
    assert pg.tensor([True]).dtype == np.bool_


def test_lists_of_numpy_scalars_take_their_dtypes_as_pytorch_does():
    assert pg.tensor([np.float64(1.0), 2.0]).dtype == np.float64
    assert pg.tensor([np.int32(1), 2.5]).dtype == np.float32  # NumPy's promotion: float64
    assert pg.tensor([np.float16(1.0), 2]).dtype == np.float16
    assert pg.tensor([np.int8(1), np.uint8(2)]).dtype == np.int16
    assert pg.tensor([[pg.tensor(1.0, dtype=pg.float64)], [2.0]]).dtype == np.float64


# np.bool_ is left out: PyTorch 2.13 refuses it beside ints ("cannot be interpreted as an integer")
SCALARS = st.sampled_from(
    [
        True,
        3,
        2.5,
        np.uint8(7),
        np.int8(-3),
        np.int16(9),
        np.int32(4),
        np.int64(5),
        np.float16(1.5),
        np.float32(0.25),
        np.float64(-2.0),
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(SCALARS, min_size=1, max_size=4))
def test_list_dtypes_match_pytorch(items):
    torch = pytest.importorskip("torch")
    expected = torch.tensor(items)
    ours = pg.tensor(items)
    assert str(ours.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    assert ours.tolist() == expected.tolist()


def test_ndarrays_keep_their_dtype_and_tensor_copies():
    a = np.arange(3, dtype=np.float64)
    t = pg.tensor(a)
    assert t.dtype == np.float64
    a[0] = 9
    assert t.data[0] == 0


def test_promotion_follows_numpy_2():
    x = pg.ones(2)  # float32
    assert (x * 2.5).dtype == np.float32  # Python numbers are weak (NEP 50)
    assert (x + pg.ones(2, dtype=pg.float64)).dtype == np.float64
    # integers meeting a float become the default float, as PyTorch (NumPy would say float64)
    assert (pg.arange(3) * 1.5).dtype == np.float32
    assert (pg.arange(3) / pg.arange(1, 4)).dtype == np.float32
    assert (pg.ones(2) * np.float64(2.0)).dtype == np.float32  # a NumPy scalar is a number


def test_factories():
    pg.manual_seed(3)
    first = pg.randn(2, 3).numpy().copy()
    pg.manual_seed(3)
    assert np.array_equal(first, pg.randn(2, 3).numpy())
    assert pg.zeros(2, 3).shape == (2, 3) and pg.zeros((2, 3)).dtype == np.float32
    assert pg.ones(2).tolist() == [1.0, 1.0]
    assert pg.full((2,), 7).dtype == np.int64 and pg.full((2,), 7.0).dtype == np.float32
    assert pg.arange(5).dtype == np.int64 and pg.arange(0.0, 1.0, 0.5).tolist() == [0.0, 0.5]
    assert pg.linspace(0, 1, 3).tolist() == [0.0, 0.5, 1.0]
    assert np.array_equal(pg.eye(2).numpy(), np.eye(2))
    assert pg.empty(4).shape == (4,)
    r = pg.rand(1000)
    assert r.dtype == np.float32 and 0 <= r.numpy().min() and r.numpy().max() < 1
    i = pg.randint(0, 5, (100,))
    assert i.dtype == np.int64 and set(i.tolist()) <= set(range(5))
    like = pg.randn(2, 3, dtype=pg.float64)
    for f in (pg.zeros_like, pg.ones_like, pg.empty_like, pg.rand_like, pg.randn_like):
        made = f(like)
        assert made.shape == (2, 3) and made.dtype == np.float64
    assert pg.full_like(like, 2.0).numpy().max() == 2.0
    assert pg.randint_like(like, 3).shape == (2, 3)
    assert pg.zeros(2, requires_grad=True).requires_grad


def test_attributes_and_conversions():
    x = pg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.size() == (2, 3) and x.size(1) == 3
    assert x.numel() == 6 and x.dim() == 2
    assert x.T.shape == (3, 2) and x.mT.shape == (3, 2)
    assert x.is_leaf and x.grad is None and x.grad_fn is None
    y = x * 2
    assert not y.is_leaf and y.grad_fn.name == "mul"
    assert x.numpy() is x._data
    # np.asarray of a tensor that requires grad: the same memory, read-only, so no write can
    # slip past the version check
    viewed = np.asarray(x)
    assert np.shares_memory(viewed, x._data) and not viewed.flags.writeable
    assert np.asarray(x.detach()) is x._data
    assert x[0, 1].item() == 2.0 and x.tolist()[1] == [4.0, 5.0, 6.0]
    assert not x.detach().requires_grad and x.detach()._data is x._data
    z = pg.zeros(2)
    assert z.requires_grad_() is z and z.requires_grad
    with pytest.raises(ValueError, match="one element"):
        x.item()


def test_numpy_operands_on_either_side():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0], dtype=np.float32) * x
    assert isinstance(y, pg.Tensor)
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 4.0]


def test_repr_like_pytorch():
    assert repr(pg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)) == (
        "tensor([[1., 2.],\n        [3., 4.]], requires_grad=True)"
    )
    assert repr(pg.tensor([1.5, 2.0])) == "tensor([1.5000, 2.0000])"
    assert repr(pg.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(pg.tensor(3.5)) == "tensor(3.5000)"
    assert repr(pg.tensor([1.0, 2.0], dtype=pg.float64) * 2) == (
        "tensor([2., 4.], dtype=pathgrad.float64)"
    )
    assert repr(pg.tensor([1e-8, 1.0])) == "tensor([1.0000e-08, 1.0000e+00])"
    assert repr(pg.tensor([1.0], requires_grad=True) * 2) == "tensor([2.], grad_fn=<MulBackward>)"
    # the width comes from nonzero finite values only, as PyTorch's
    assert repr(pg.tensor([np.nan, np.inf, -np.inf, 1.0])) == "tensor([nan, inf, -inf, 1.])"
    assert repr(pg.tensor([-0.0, 0.0])) == "tensor([-0., 0.])"
    assert repr(pg.tensor([100000.0, 1.0])) == "tensor([1.0000e+05, 1.0000e+00])"
    # a summarised tensor takes its style from the elements shown
    assert repr(pg.arange(2000.0)) == (
        "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n"
        "        1.9990e+03])"
    )
    assert repr(pg.zeros(0, dtype=pg.int64)) == "tensor([], dtype=pathgrad.int64)"


def test_shape_helpers():
    x = pg.arange(12.0).reshape(3, 4)
    assert [p.shape for p in x.split(2, 1)] == [(3, 2), (3, 2)]
    assert [p.shape for p in x.chunk(2, 0)] == [(2, 4), (1, 4)]
    assert pg.stack([x, x]).shape == (2, 3, 4)
    values, indices = x.max(1)
    assert values.tolist() == [3.0, 7.0, 11.0] and indices.tolist() == [3, 3, 3]
    assert x.argmax().item() == 11 and x.argmin(0).tolist() == [0, 0, 0, 0]
    assert pg.one_hot(pg.tensor([0, 2]), 3).tolist() == [[1, 0, 0], [0, 0, 1]]
    assert x.int().dtype == np.int32 and (x > 1).int().tolist()[0] == [0, 0, 1, 1]
    assert x.bool().dtype == np.bool_ and x.t().shape == (4, 3)
    with pytest.raises(pg.ShapeError, match="bmm"):
        pg.bmm(pg.ones(2, 3, 4), pg.ones(3, 4, 5))
    assert (x > 5).dtype == np.bool_ and ((x > 5) & (x < 8)).sum().item() == 2


UFUNCS = [
    (np.exp, pg.exp),
    (np.log, pg.log),
    (np.sqrt, pg.sqrt),
    (np.tanh, pg.tanh),
    (np.square, pg.square),
    (np.abs, pg.abs),
    (np.negative, pg.neg),
    (lambda t: np.maximum(t, 1.0), lambda t: pg.maximum(t, 1.0)),
    (lambda t: np.power(t, 3), lambda t: t**3),
    (lambda t: np.array([1.0, 2.0, 3.0]) / t, lambda t: pg.div(np.array([1.0, 2.0, 3.0]), t)),
    (lambda t: np.ones((2, 3)) @ t, lambda t: pg.matmul(np.ones((2, 3)), t)),
    (lambda t: np.remainder(t, 0.7), lambda t: t % 0.7),
    (np.log2, pg.log2),
    (np.log10, pg.log10),
    (np.expm1, pg.expm1),
    (np.tan, pg.tan),
    (np.reciprocal, pg.reciprocal),
    (np.arctan, pg.atan),
    (np.sinh, pg.sinh),
    (np.arcsinh, pg.asinh),
    (np.floor, pg.floor),
    (np.rint, pg.round),
    (np.exp2, pg.exp2),
    (np.deg2rad, pg.deg2rad),
    (lambda t: np.arctan2(t, 2.0), lambda t: pg.atan2(t, 2.0)),
    (lambda t: np.hypot(t, t * 2), lambda t: pg.hypot(t, t * 2)),
    (lambda t: np.logaddexp(t, 1.0), lambda t: pg.logaddexp(t, 1.0)),
    (lambda t: np.fmod(t, 0.7), lambda t: pg.fmod(t, 0.7)),
    (lambda t: np.fmax(t, 1.0), lambda t: pg.fmax(t, 1.0)),
]


@pytest.mark.parametrize("ufunc, op", UFUNCS)
def test_numpy_ufuncs_on_tensors_are_recorded_ops(ufunc, op):
    values = np.array([0.5, 1.5, 3.0])
    by_numpy, by_op = (pg.tensor(values, requires_grad=True) for _ in range(2))
    out = ufunc(by_numpy)
    expected = op(by_op)
    assert type(out) is pg.Tensor and out.dtype == expected.dtype
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_array_equal(by_numpy.grad.numpy(), by_op.grad.numpy())


def test_numpy_ufuncs_without_an_op_are_refused_by_name():
    t = pg.tensor([0.5, 1.5])
    with pytest.raises(TypeError, match="np.cbrt on a pathgrad tensor"):
        np.cbrt(t)
    with pytest.raises(TypeError, match=r"np.add.reduce on a pathgrad tensor"):
        np.add.reduce(t)
    with pytest.raises(TypeError, match="np.add with out="):
        np.add(t, 1.0, out=np.zeros(2))
    assert np.cbrt(t.detach().numpy()).shape == (2,)


NUMPY_FUNCTIONS = {
    "sum": lambda x: np.sum(x),
    "sum(axis=0)": lambda x: np.sum(x, axis=0),
    "sum(axis=(0, 1), keepdims)": lambda x: np.sum(x, axis=(0, 1), keepdims=True),
    "mean(axis=1, keepdims)": lambda x: np.mean(x, axis=1, keepdims=True),
    "max": lambda x: np.max(x),
    "max(axis=1)": lambda x: np.max(x, axis=1),
    "amin(0)": lambda x: np.amin(x, 0),
    "prod(axis=1)": lambda x: np.prod(x, axis=1),
    "var (ddof 0, NumPy's default)": lambda x: np.var(x),
    "var(axis=0, ddof=1)": lambda x: np.var(x, axis=0, ddof=1),
    "std(axis=1)": lambda x: np.std(x, axis=1),
    "concatenate(axis=1)": lambda x: np.concatenate([x, x * 2], axis=1),
    "stack(axis=-1)": lambda x: np.stack([x, x * 3], axis=-1),
    "where": lambda x: np.where(x > 0, x, x * 0.5),
    "reshape": lambda x: np.reshape(x, (4, 3)),
    "reshape(-1)": lambda x: np.reshape(x, -1),
    "transpose": lambda x: np.transpose(x),
    "transpose(axes)": lambda x: np.transpose(np.reshape(x, (2, 3, 2)), (1, 0, 2)),
    "squeeze(expand_dims)": lambda x: np.squeeze(np.expand_dims(x, 0), 0),
    "flip": lambda x: np.flip(x),
    "flip(axis=1)": lambda x: np.flip(x, 1),
    "broadcast_to": lambda x: np.broadcast_to(x[0], (5, 4)),
    "clip": lambda x: np.clip(x, -0.5, 0.5),
    "dot(matrix, vector)": lambda x: np.dot(x, np.arange(4.0)),
    "dot(vector, vector)": lambda x: np.dot(x[0], x[1]),
    "outer": lambda x: np.outer(x[0], x[1]),
    "einsum": lambda x: np.einsum("ij,kj->ik", x, x),
    "linalg.inv": lambda x: np.linalg.inv(x[:, :3] + 3 * np.eye(3)),
    "linalg.det": lambda x: np.linalg.det(x[:, 1:]),
    "linalg.slogdet": lambda x: np.linalg.slogdet(x[:, :3])[1],
    "linalg.cholesky": lambda x: np.linalg.cholesky(x @ x.T + np.eye(3)),
    "linalg.eigvalsh": lambda x: np.linalg.eigvalsh(x @ x.T),
    "cumsum (flattened)": lambda x: np.cumsum(x),
    "cumsum(axis=1)": lambda x: np.cumsum(x, axis=1),
    "sort": lambda x: np.sort(x),
    "sort(axis=None)": lambda x: np.sort(x, axis=None),
    "tril": lambda x: np.tril(x),
    "triu(k=1)": lambda x: np.triu(x, k=1),
    "roll (flattened)": lambda x: np.roll(x, 5),
    "roll(axis)": lambda x: np.roll(x, (1, -2), axis=(0, 1)),
}


@pytest.mark.parametrize("name", list(NUMPY_FUNCTIONS))
def test_numpy_functions_on_tensors_keep_the_graph(name):
    f = NUMPY_FUNCTIONS[name]
    values = np.random.default_rng(0).standard_normal((3, 4))
    x = pg.tensor(values, requires_grad=True)
    out = f(x)
    assert type(out) is pg.Tensor and out.grad_fn is not None
    np.testing.assert_allclose(out.numpy(), f(values), rtol=1e-12)  # NumPy's own semantics
    assert pg.gradcheck(f, (x,))


def test_numpy_functions_pathgrad_cannot_take_run_on_the_arrays():
    x = pg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert type(np.cumprod(x)) is np.ndarray  # no op: NumPy's, on the values
    total = np.sum(x, initial=1.0)  # initial= is NumPy's alone
    assert type(total) is np.float32 and total == 11
    assert type(np.sum(x, dtype=np.float32)) is pg.Tensor  # dtype= is PyTorch's too
    assert np.shape(x) == (2, 2) and np.allclose(x, x.numpy())


REDUCTIONS = [np.sum, np.mean, np.prod, np.max, np.min, np.var, np.std]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # ddof >= n: NaN, in both
@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(1, 3), min_size=1, max_size=3),
    st.sampled_from(REDUCTIONS),
    st.booleans(),
    st.data(),
)
def test_numpy_reductions_take_numpys_arguments(shape, reduction, keepdims, data):
    ndim = len(shape)
    axis = data.draw(
        st.one_of(
            st.none(),
            st.integers(-ndim, ndim - 1),
            st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple),
        )
    )
    extra = {"ddof": data.draw(st.integers(0, 1))} if reduction in (np.var, np.std) else {}
    values = np.random.default_rng(len(shape)).standard_normal(shape) + 2.0
    x = pg.tensor(values, requires_grad=True)
    out = reduction(x, axis=axis, keepdims=keepdims, **extra)
    expected = reduction(values, axis=axis, keepdims=keepdims, **extra)
    assert type(out) is pg.Tensor and out.shape == np.shape(expected)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, equal_nan=True)


def test_a_reduction_in_another_dtype_sends_the_gradient_back_in_the_inputs():
    x = pg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)  # float32
    total = x.sum(1, dtype=pg.float64)
    assert total.dtype == pg.float64 and total.grad_fn is not None
    (total * pg.tensor([10.0, 20.0], dtype=pg.float64)).sum().backward()
    assert x.grad.dtype == pg.float32
    np.testing.assert_array_equal(x.grad.numpy(), [[10.0, 10.0], [20.0, 20.0]])
    softmax = pg.softmax(x.detach(), 0, dtype=pg.float64)
    assert softmax.dtype == pg.float64
    np.testing.assert_allclose(softmax.numpy().sum(0), [1.0, 1.0], rtol=1e-15)
    assert pg.tensor([1, 2, 3]).mean(dtype=pg.float32).item() == 2.0

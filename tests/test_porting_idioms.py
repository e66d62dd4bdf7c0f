"""The idioms of PyTorch training scripts (issue 20): `.data`, broadcast assignment by index, the
legacy `Tensor(...)` constructor, `Size` and dtypes; each run the same lines under pathgrad and,
where it is installed, under PyTorch."""

import numpy as np
import pytest

import pathgrad as pg


def _libraries():
    libs = [pg]
    try:
        import torch
    except ImportError:
        return libs
    return libs + [torch]


LIBS = _libraries()
IDS = [lib.__name__ for lib in LIBS]


@pytest.mark.parametrize("L", LIBS, ids=IDS)
def test_sgd_update_through_data_changes_the_parameter_unrecorded(L):
    p = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (p * p).sum().backward()
    p.data += -0.1 * p.grad
    assert p.is_leaf and p.requires_grad and p.grad_fn is None
    np.testing.assert_allclose(p.detach().numpy(), [0.8, 1.6, 2.4], rtol=1e-6)
    view = p.data
    assert not view.requires_grad and view.grad_fn is None
    view[0] = 5.0  # shares the parameter's memory
    assert p[0].item() == 5.0
    p.data.zero_()
    assert p.sum().item() == 0.0


@pytest.mark.parametrize("L", LIBS, ids=IDS)
def test_data_assignment_takes_the_new_values_shape_and_dtype(L):
    x = L.tensor([1.0, 2.0])
    x.data = L.tensor([3.0, 4.0, 5.0])
    assert (x * 2).tolist() == [6.0, 8.0, 10.0] and x.sum().item() == 12.0
    assert "3." in repr(x) and tuple(x.shape) == (3,)
    x.data = L.tensor([1.0], dtype=L.float64)
    assert x.dtype == L.float64
    with pytest.raises(TypeError, match="data"):
        x.data = [3.0, 4.0]
    w = L.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError):
        w.data = L.tensor([1, 2])  # integers cannot require grad


def test_data_of_pathgrad_also_takes_an_ndarray_and_is_refused_by_name_otherwise():
    x = pg.tensor([1.0, 2.0])
    x.data = np.array([7.0, 8.0], dtype=np.float32)
    assert x.tolist() == [7.0, 8.0]
    with pytest.raises(TypeError, match=r"\.data, not a str"):
        x.data = "7"


def test_a_graph_that_saved_a_parameter_notices_a_change_through_data():
    # PyTorch's .data has a version counter of its own, so there the backward below silently
    # uses the new values; pathgrad's shares the parameter's, and stops
    p = pg.tensor([1.0, 2.0], requires_grad=True)
    loss = (p * p).sum()
    p.data += 1.0
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()
    q = pg.tensor([1.0, 2.0], requires_grad=True)
    loss = (q * q).sum()
    q.data = pg.tensor([5.0, 5.0])
    with pytest.raises(RuntimeError, match="changed in place by data"):
        loss.backward()


@pytest.mark.parametrize("L", LIBS, ids=IDS)
@pytest.mark.parametrize(
    "index, value_shape",
    [(1, (1, 4)), (slice(0, 2), (1, 1, 4)), ((slice(None), 0), (1, 3)), (2, (4,)), (0, (1,))],
)
def test_assignment_by_index_broadcasts_the_value_with_its_gradient(L, index, value_shape):
    rng = np.random.default_rng(0)
    base = L.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    value = L.tensor(rng.standard_normal(value_shape), requires_grad=True)
    x = base * 1.0
    x[index] = value
    (x * L.tensor(np.arange(12.0).reshape(3, 4))).sum().backward()
    results = (x.detach().numpy(), base.grad.numpy(), value.grad.numpy())
    if L is pg:
        pytest.shared = results
    else:
        for ours, theirs in zip(pytest.shared, results):
            np.testing.assert_allclose(ours, theirs)


@pytest.mark.parametrize("L", LIBS, ids=IDS)
def test_assignment_of_a_value_that_does_not_broadcast_is_refused(L):
    x = L.zeros(3, 4)
    with pytest.raises(RuntimeError):
        x[1] = L.ones(2, 4)


@pytest.mark.parametrize("L", LIBS, ids=IDS)
@pytest.mark.parametrize(
    "args",
    [([2.0],), ([[1, 2], [3, 4]],), ((2.0, 3.0),), (2, 3), (4,), (), "size", "ndarray", "tensor"],
)
def test_the_legacy_constructor_makes_default_float_tensors(L, args):
    key = repr(args)
    if args == "size":
        args = (L.Size([2, 3]),)
    elif args == "ndarray":
        args = (np.arange(3, dtype=np.float64),)
    elif args == "tensor":
        args = (L.tensor([1, 2]),)
    t = L.Tensor(*args)
    from_data = len(args) == 1 and not isinstance(args[0], (int, L.Size))
    if from_data and isinstance(args[0], L.Tensor):  # an alias of the tensor, its dtype kept
        assert t.dtype == L.int64 and t.tolist() == [1, 2]
        return
    assert t.dtype == L.float32 and not t.requires_grad
    assert (t * 2).double().dtype == L.float64
    made = (tuple(t.shape), t.tolist() if from_data else None)  # sized: uninitialised in torch
    if L is pg:
        _legacy[key] = made
    else:
        assert _legacy[key] == made


_legacy: dict = {}


@pytest.mark.parametrize("L", LIBS, ids=IDS)
def test_shapes_are_sizes_with_numel(L):
    x = L.zeros(3, 27)
    assert x.shape == (3, 27) and x.size() == (3, 27) and isinstance(x.shape, tuple)
    assert x.shape.numel() == 81 and x.shape[1:] == (27,) and x.shape[1:].numel() == 27
    assert isinstance(x.shape[1:], L.Size) and isinstance(x.shape + (1,), L.Size)
    assert hash(x.shape) == hash((3, 27)) and {x.shape: 1}[(3, 27)] == 1
    assert L.zeros(x.shape).shape == x.shape and x.view(x.shape[0], -1).shape == (3, 27)
    assert repr(x.shape).endswith("Size([3, 27])") and str(L.Size([])).endswith("Size([])")

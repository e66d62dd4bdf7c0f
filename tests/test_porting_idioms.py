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

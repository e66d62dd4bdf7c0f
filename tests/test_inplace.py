"""In-place ops: recorded, view-aware, version-checked; gradients as PyTorch's or a clear error."""

import sys

import numpy as np
import pytest

import pathgrad as pg
from op_cases import torch_namespace

A = np.array([1.0, -2.0, 3.0, 4.0])
B = np.array([0.5, -1.0, 2.0, 3.0])


def slice_times_two(L, a, b):
    x = a * b
    x[1:] *= 2
    return x * a


def relu_in_place(L, a, b):
    return (a * b).relu_() * 3


def view_changed_then_used(L, a, b):
    x = a * 1
    v = x[::2]
    v.add_(b[:2])
    return x.exp()


def setitem_and_masked_fill(L, a, b):
    x = a.clone()
    x[0] = b[1] * 10
    x.masked_fill_(x > 3.5, 0.0)
    return x * b


def buffer_filled_from_tensors(L, a, b):
    buf = L.zeros(4, dtype=L.float64)
    buf += a
    buf[2:] = b[:2]
    return buf.reshape(2, 2).T * 2


def every_operator(L, a, b):
    x = a * 1
    x += b
    x -= 0.5
    x *= b
    x /= 2.0
    x.pow_(2)
    x.clamp_(-3.0, 8.0)
    y = b * 1
    y.copy_(x.flip(0))
    z = a * 1
    z[1:].zero_()
    z[:1].fill_(1.5)
    return x + y * z


def transpose_view_in_place(L, a, b):
    m = (a * 1).reshape(2, 2)
    m.T[0].mul_(b[:2])  # the first column of m, through a transposed view
    return m * m


def stale_view_read_under_no_grad(L, a, b):
    x = a * 1
    v = x[0:2]
    x.mul_(b)  # v's grad_fn is now stale
    with L.no_grad():
        _ = v + 1  # reading it untracked must not mark it fresh
    return v * 3


def stale_view_changed_under_no_grad(L, a, b):
    x = a * 1
    v = x[1:3]
    x.mul_(b)
    with L.no_grad():
        v.add_(1.0)  # an untracked change: values move, the graph does not
    return v * b[:2]


def non_leaf_changed_under_no_grad(L, a, b):
    x = a * b
    with L.no_grad():
        x.add_(0.5)  # the value moves, the graph stays: x is still a * b to autograd
    return x * x


def scatters_in_place(L, a, b):
    x = a * 1
    x.scatter_(0, L.tensor([3, 0]), b[:2])
    y = b * 1
    y.scatter_add_(0, L.tensor([1, 1, 2]), a[:3])  # a repeated position adds twice
    z = a * 1
    z.index_add_(0, L.tensor([2, 0]), b[1:3], alpha=2.0)
    w = (a * b).scatter_(0, L.tensor([1, 2]), value=0.25)
    v = (a * 1).scatter_reduce_(0, L.tensor([0, 0, 3]), b[:3], "amax")
    return x * y + z * w + v


CASES = [
    slice_times_two,
    relu_in_place,
    view_changed_then_used,
    setitem_and_masked_fill,
    buffer_filled_from_tensors,
    every_operator,
    transpose_view_in_place,
    stale_view_read_under_no_grad,
    stale_view_changed_under_no_grad,
    non_leaf_changed_under_no_grad,
    scatters_in_place,
]


def _functional_twin_grads(fn):
    a = pg.tensor(A, requires_grad=True)
    b = pg.tensor(B, requires_grad=True)
    fn(pg, a, b).sum().backward()
    return a.grad.numpy(), b.grad.numpy()


@pytest.mark.parametrize("fn", CASES, ids=lambda f: f.__name__)
def test_in_place_gradients_pass_gradcheck(fn):
    a = pg.tensor(A, requires_grad=True)
    b = pg.tensor(B, requires_grad=True)
    assert pg.gradcheck(lambda a, b: fn(pg, a, b), (a, b))


@pytest.mark.parametrize("fn", CASES, ids=lambda f: f.__name__)
def test_in_place_matches_pytorch(fn):
    torch = pytest.importorskip("torch")
    lib = torch_namespace()
    ours = [pg.tensor(v, requires_grad=True) for v in (A, B)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (A, B)]
    out_ours, out_theirs = fn(pg, *ours), fn(lib, *theirs)
    np.testing.assert_allclose(out_ours.numpy(), out_theirs.detach().numpy(), rtol=1e-12)
    out_ours.sum().backward()
    out_theirs.sum().backward()
    for x, t in zip(ours, theirs):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_backward_from_a_view_whose_base_changed_uses_the_new_graph():
    a = pg.tensor(A, requires_grad=True)
    x = a * 1
    v = x[:2]
    x.mul_(3)  # v now shows 3 * a[:2]
    v.backward(pg.ones(2))
    assert a.grad.tolist() == [3.0, 3.0, 0.0, 0.0]


def test_changing_an_input_no_rule_reads_is_no_error():
    a = pg.tensor(A, requires_grad=True)
    y = a * 1
    y[1:3] = y[:2] * 1  # mul by a number keeps nothing of y[:2]; PyTorch allows this too
    y.sum().backward()
    assert a.grad.tolist() == [2.0, 1.0, 0.0, 1.0]


def test_view_shares_memory_and_contiguous_copies_only_when_it_must():
    x = pg.arange(12.0).reshape(3, 4)
    flat = x.view(-1)
    flat[0] = 100.0
    assert x[0, 0].item() == 100.0
    assert x.is_contiguous() and x.contiguous() is x
    t = x.T
    assert not t.is_contiguous()
    copy = t.contiguous()
    assert copy.is_contiguous() and copy.view(-1).tolist() == t.reshape(-1).tolist()
    copy.view(-1)[0] = -1.0
    assert x[0, 0].item() == 100.0


def test_detached_memory_may_change_in_place_and_the_change_is_counted():
    a = pg.tensor(A, requires_grad=True)
    y = a * a  # saves a
    d = a.detach()
    d[0] = 10.0  # allowed, as in PyTorch: detach() cut the graph, not the memory
    assert a[0].item() == 10.0 and a._version == 1
    with pytest.raises(RuntimeError, match=r"changed in place by setitem"):
        y.sum().backward()
    with pg.no_grad():
        view_of_detached = a.detach()[1:]
    view_of_detached.mul_(2.0)  # a view of detached memory is no view of a
    assert a[1].item() == 2 * A[1]


def test_a_view_made_under_no_grad_is_refused_where_pytorch_refuses_it():
    a = pg.tensor(A, requires_grad=True)
    x = a * 1
    with pg.no_grad():
        w = x[1:]
    with pytest.raises(RuntimeError, match="made under no_grad"):
        w.mul_(2.0)  # the change could not reach x's graph
    x.add_(0.5)  # recorded, so w's value now carries a change autograd knows about
    with pytest.raises(
        RuntimeError, match=r"\(add_ at test_inplace\.py:\d+\): whether .* ambiguous"
    ):
        (w * 2).sum()
    with pg.no_grad():
        w.mul_(2.0)  # untracked, as the view was made: allowed


def test_views_share_the_version_counter_of_their_base():
    x = pg.zeros(4)
    v = x[1:]
    assert (x._version, v._version) == (0, 0)
    v.add_(1.0)
    x.mul_(2.0)
    assert (x._version, v._version, x.detach()._version) == (2, 2, 2)


def test_views_share_memory_with_their_base():
    x = pg.zeros(2, 3)
    row = x[1]
    row.fill_(5.0)
    assert x.tolist() == [[0.0, 0.0, 0.0], [5.0, 5.0, 5.0]]
    x.T[0].add_(1.0)
    assert x.tolist() == [[1.0, 0.0, 0.0], [6.0, 5.0, 5.0]]


def test_a_view_changed_after_use_is_an_error_naming_everything():
    a = pg.tensor(A, requires_grad=True)
    x = a * 2
    v = x[1:]
    z = v * v  # saves v
    v.mul_(3)  # the in-place change the message must name
    with pytest.raises(RuntimeError) as error:
        z.sum().backward()
    message = str(error.value)
    assert "backward through mul" in message and "shape (3,)" in message
    assert "mul_ at test_inplace.py:" in message
    assert "version 0 when saved, version 1 now" in message


def made_in_a_helper(x):
    return pg.softmax(x * x, 0)  # a composite: its ops are made two frames further out


def test_version_error_names_the_line_that_made_the_op():
    a = pg.tensor(A, requires_grad=True)
    x = a * 2
    y = x * x
    made = sys._getframe().f_lineno - 1
    x.add_(1)
    with pytest.raises(RuntimeError, match=rf"mul \(made at test_inplace\.py:{made}\)"):
        y.sum().backward()


def test_the_line_that_made_an_op_is_the_users_through_composites_and_methods():
    a = pg.tensor(A, requires_grad=True)
    line = made_in_a_helper.__code__.co_firstlineno + 1
    out = made_in_a_helper(a)
    assert out.grad_fn.site == f"test_inplace.py:{line}"
    here = sys._getframe().f_lineno + 1
    for t in (a.exp(), a @ a, 2.0 * a, a[1:], pg.matmul(a, a), a.sum(0)):
        assert t.grad_fn.site == f"test_inplace.py:{here}"


def test_a_saved_output_changed_in_place_is_an_error():
    a = pg.tensor(A, requires_grad=True)
    y = a.tanh()  # tanh saves its output
    y += 1
    line = sys._getframe().f_lineno - 1
    with pytest.raises(
        RuntimeError, match=rf"tanh.*changed in place by add_ at test_inplace\.py:{line}"
    ):
        y.sum().backward()


def test_changing_a_leaf_that_requires_grad_needs_no_grad():
    p = pg.tensor(A, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad.*no_grad"):
        p.add_(1)
    with pytest.raises(RuntimeError, match="view of a leaf tensor"):
        p[0:2].fill_(3.0)
    (p * p).sum().backward()
    with pg.no_grad():
        p -= 0.1 * p.grad  # an optimizer step
    np.testing.assert_allclose(p.numpy(), A - 0.1 * 2 * A)
    assert p.is_leaf and p.requires_grad


def test_views_whose_elements_share_memory_are_read_only():
    x = pg.ones(3).expand(2, 3)
    with pytest.raises(RuntimeError, match="read-only memory: a view whose elements share"):
        x.add_(1)
    windows = pg.arange(6.0).unfold(0, 3, 1)  # element 2 sits in three windows
    with pytest.raises(RuntimeError, match="unfold with overlapping windows"):
        windows.mul_(2)


def test_unfold_without_overlap_is_a_writable_view_as_pytorchs():
    x = pg.arange(6.0)
    x.unfold(0, 2, 3).mul_(10)  # windows [0, 1] and [3, 4]
    assert x.tolist() == [0.0, 10.0, 2.0, 30.0, 40.0, 5.0]


def test_in_place_result_must_fit_shape_and_dtype():
    x = pg.zeros(3)
    with pytest.raises(pg.ShapeError, match=r"result has shape \(2, 3\).*shape \(3,\)"):
        x.add_(pg.ones(2, 3))
    i = pg.zeros(3, dtype=pg.int64)
    with pytest.raises(TypeError, match="cannot be stored in place"):
        i.add_(0.5)


def test_graphs_without_in_place_changes_skip_version_checks():
    from pathgrad import versions

    x = pg.tensor(A, requires_grad=True)
    y = (x * x).sum()
    assert y.grad_fn.epoch == versions.epoch
    y.backward()


def test_a_saved_parameter_changed_by_an_optimiser_step_before_backward_is_caught():
    """A Parameter (a Tensor subclass) a rule saved is checked as any tensor: an optimiser step
    between forward and backward changes it in place, and PyTorch refuses that backward too."""
    w = pg.nn.Parameter(pg.ones(3))
    x = pg.ones(3, requires_grad=True)
    loss = (x * w).sum()
    w.grad = pg.ones(3)
    pg.optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match=r"backward through mul.*changed in place by SGD"):
        loss.backward()

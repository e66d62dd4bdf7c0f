"""Backward behaves as PyTorch's: accumulation, paths, retain_graph, grad modes, long chains."""

import gc
import sys
import time

import numpy as np
import pytest

import pathgrad as pg


def test_gradients_accumulate_across_backward_calls():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 + 2, 3 + 4])


def accumulate_twice(L):
    x = L.tensor([1.0, 2.0], dtype=L.float64, requires_grad=True)
    (x * 3).sum().backward()
    taken = x.grad  # a reference taken between the calls sees the sum, as in PyTorch
    (x * x).sum().backward()
    kept = []
    y = L.tensor([1.0, -2.0], dtype=L.float64, requires_grad=True)
    y.register_hook(lambda grad: kept.append(grad))
    (y * 3).sum().backward()
    (y * y).sum().backward()  # the gradient a hook kept is not changed by the next one
    return taken is x.grad, [t.tolist() for t in (taken, x.grad, y.grad, *kept)]


def test_accumulation_is_in_place_where_nothing_else_holds_grad():
    same, values = accumulate_twice(pg)
    assert same
    assert values == [[5.0, 7.0], [5.0, 7.0], [5.0, -1.0], [3.0, 3.0], [2.0, -4.0]]


def test_accumulation_matches_pytorch():
    torch = pytest.importorskip("torch")
    assert accumulate_twice(pg) == accumulate_twice(torch)


def test_a_graph_that_saved_grad_sees_the_accumulation():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    w = pg.tensor([1.0, 1.0], requires_grad=True)
    y = (w * x.grad).sum()  # mul saves x.grad for w's gradient
    (x * x).sum().backward()
    line = sys._getframe().f_lineno - 1
    with pytest.raises(
        RuntimeError, match=rf"accumulating into \.grad\) at test_autograd_semantics\.py:{line}"
    ):
        y.backward()


def test_a_tensor_used_twice_sums_its_paths():
    x = pg.tensor(2.0, requires_grad=True)
    y = x * x + x  # paths: x*x (twice) and +x
    y.backward()
    assert x.grad.item() == pytest.approx(2 * 2.0 + 1)


def test_diamond_graph_gradient_is_complete_before_use():
    x = pg.tensor([0.5, -1.0], dtype=pg.float64, requires_grad=True)
    a = x.tanh()
    b = a * 2
    c = a.exp()
    (b * c).sum().backward()
    t = np.tanh([0.5, -1.0])
    np.testing.assert_allclose(x.grad.numpy(), (2 * np.exp(t) + 2 * t * np.exp(t)) * (1 - t**2))


def test_second_backward_through_freed_graph_says_so():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-6)


def test_backward_frees_saved_values():
    x = pg.randn(3, requires_grad=True)
    y = x.tanh()
    node = y.grad_fn
    y.sum().backward()
    assert node.vjp is None and node.saved_out is None


def test_backward_with_gradient_weights_outputs():
    x = pg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    y.backward(pg.tensor([1.0, 0.0, 2.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 0.0, 12.0])


def test_leaf_grad_is_writable_and_aliases_nothing():
    a = pg.tensor([1.0, 2.0], requires_grad=True)
    b = pg.tensor([3.0, 4.0], requires_grad=True)
    seed = pg.tensor([1.0, 1.0])
    (a + b).backward(seed)
    a.grad.data[0] = 100.0
    assert b.grad.data[0] == 1.0 and seed.data[0] == 1.0


def test_no_grad_records_nothing_and_restores_mode():
    x = pg.tensor([1.0], requires_grad=True)
    with pg.no_grad():
        y = x * 2
        assert not pg.is_grad_enabled()
    assert pg.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad


def test_no_grad_as_decorator_and_enable_grad_inside():
    x = pg.tensor([1.0], requires_grad=True)

    @pg.no_grad()
    def f():
        with pg.enable_grad():
            inner = x * 2
        return x * 2, inner

    outer, inner = f()
    assert outer.grad_fn is None and inner.grad_fn is not None
    assert pg.is_grad_enabled()


def grad_mode_across_threads(lib):
    """What each thread sees while another sits in no_grad(), as (recorded, mode) pairs."""
    import threading

    inside, leave, seen = threading.Event(), threading.Event(), {}

    def evaluate():
        with lib.no_grad():
            inside.set()
            leave.wait(5)
            seen["worker"] = lib.is_grad_enabled()

    def fresh():
        seen["fresh thread"] = lib.is_grad_enabled()

    worker = threading.Thread(target=evaluate)
    worker.start()
    inside.wait(5)
    x = lib.ones(2, requires_grad=True)
    seen["main"] = ((x * 2).requires_grad, lib.is_grad_enabled())
    with lib.no_grad():
        thread = threading.Thread(target=fresh)
        thread.start()
        thread.join()
    leave.set()
    worker.join()
    return seen


def test_grad_mode_is_per_thread_as_pytorch():
    seen = grad_mode_across_threads(pg)
    assert seen == {"main": (True, True), "worker": False, "fresh thread": True}
    torch = pytest.importorskip("torch")
    assert grad_mode_across_threads(torch) == seen


def test_set_grad_enabled_as_call_and_context():
    x = pg.tensor([1.0], requires_grad=True)
    with pg.set_grad_enabled(False):
        assert (x * 2).grad_fn is None
    assert pg.is_grad_enabled()
    pg.set_grad_enabled(False)
    try:
        assert (x * 2).grad_fn is None
    finally:
        pg.set_grad_enabled(True)
    assert (x * 2).grad_fn is not None


def test_backward_records_no_graph_by_default():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    (x.tanh() * x).sum().backward()
    assert x.grad.grad_fn is None and not x.grad.requires_grad


def test_detach_cuts_the_graph():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).detach() * x
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_integer_and_bool_outputs_do_not_require_grad():
    x = pg.tensor([1.0, -2.0], requires_grad=True)
    assert not (x > 0).requires_grad
    assert not x.argmax().requires_grad


def test_million_op_chain_backpropagates_without_recursion():
    x = pg.tensor([1.0], requires_grad=True)
    y = x
    start = time.perf_counter()
    for _ in range(1_000_000):
        y = y * 1.0
    forward = time.perf_counter() - start
    start = time.perf_counter()
    y.backward()
    backward = time.perf_counter() - start
    assert x.grad.item() == 1.0
    # linear, not quadratic: backward costs a small multiple of the forward
    assert backward < 4 * forward + 1.0
    del y
    gc.collect()


def test_backward_inputs_fills_only_those_grads_non_leaves_included():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    w = pg.tensor([3.0, 4.0], requires_grad=True)
    h = x * w
    (h * h).sum().backward(inputs=[x, h])
    assert x.grad.tolist() == [18.0, 64.0] and h.grad.tolist() == [6.0, 16.0]
    assert w.grad is None


def test_no_grad_on_a_generator_function_covers_each_step_as_pytorch():
    @pg.no_grad()
    def steps():
        x = pg.ones(2, requires_grad=True)
        received = yield (x * 2).requires_grad
        yield received, (x * 3).requires_grad, pg.is_grad_enabled()
        return "done"

    run = steps()
    assert next(run) is False
    assert pg.is_grad_enabled()  # between steps the caller's mode holds
    assert run.send("sent") == ("sent", False, False)
    with pytest.raises(StopIteration) as stop:
        next(run)
    assert stop.value.value == "done"

    @pg.enable_grad()
    def inside_no_grad():
        yield (pg.ones(1, requires_grad=True) * 2).requires_grad

    with pg.no_grad():
        assert list(inside_no_grad()) == [True]


def test_an_exception_thrown_into_a_decorated_generator_reaches_it():
    @pg.set_grad_enabled(False)
    def steps():
        try:
            yield 1
        except KeyError:
            yield pg.is_grad_enabled()

    run = steps()
    next(run)
    assert run.throw(KeyError("k")) is False
    run.close()


def several_outputs_at_once(L):
    x = L.tensor([1.0, 2.0], dtype=L.float64, requires_grad=True)
    y = L.tensor([0.5, -1.0], dtype=L.float64, requires_grad=True)
    first, second = x * y, (x * x).sum()
    L.autograd.backward([first, second], [L.tensor([1.0, 3.0], dtype=L.float64), None])
    return x.grad.tolist(), y.grad.tolist()


def test_autograd_backward_takes_several_outputs_as_pytorch():
    ours = several_outputs_at_once(pg)
    assert ours == ([2.5, 1.0], [1.0, 6.0])  # x: y * w + 2x; y: x * w
    torch = pytest.importorskip("torch")
    assert ours == several_outputs_at_once(torch)


def test_autograd_backward_refuses_mismatched_weights():
    x = pg.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="backward: 1 grad_tensors for 2 tensors"):
        pg.autograd.backward([x * 2, x * 3], [pg.ones(2)])


def test_autograd_backward_of_several_outputs_is_one_sweep_from_all_roots():
    import pathgrad.autodiff.backprop as backprop_module

    x = pg.tensor([1.0, 2.0], requires_grad=True)
    shared = x * x
    a, b = shared.sum(), (shared * 3).sum()
    calls = []
    original = backprop_module.backprop
    backprop_module.backprop = lambda roots, *rest, **kw: (
        calls.append(roots) or original(roots, *rest, **kw)
    )
    try:
        import pathgrad.backward as backward_module

        backward_module.backprop = backprop_module.backprop
        pg.autograd.backward([a, b], [pg.tensor(1.0), pg.tensor(2.0)])
    finally:
        backprop_module.backprop = original
        backward_module.backprop = original
    assert len(calls) == 1 and calls[0] == [a.grad_fn, b.grad_fn]  # no weighted sum node
    np.testing.assert_allclose(x.grad.numpy(), 7 * 2 * np.array([1.0, 2.0]))


def test_a_root_given_twice_gets_both_seeds():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    (g,) = pg.autograd.grad([y, y], x, retain_graph=True)
    np.testing.assert_allclose(g.numpy(), 2 * 2 * np.array([1.0, 2.0]))

"""Hooks, retain_grad, backward(inputs=...) and autograd.grad together, against PyTorch: every
combination of a gradient-doubling hook on a non-leaf, retain_grad on it, a recording hook on a
leaf, and the three ways of asking for gradients."""

import itertools

import numpy as np
import pytest

import pathgrad as pg

COMBINATIONS = list(
    itertools.product([False, True], [False, True], [False, True], ["backward", "inputs", "grad"])
)


def run(L, grad, hook_h, retain_h, hook_a, mode):
    a = L.tensor([0.5, 1.0, 1.5], dtype=L.float64, requires_grad=True)
    b = L.tensor([1.2, 0.7, 0.9], dtype=L.float64, requires_grad=True)
    seen = []
    h = a * b
    if hook_h:
        h.register_hook(lambda g: g * 2)
    if retain_h:
        h.retain_grad()
    if hook_a:
        a.register_hook(lambda g: seen.append(g.tolist()))
    y = (h.exp() + a).sum()
    z = (h * b).sum()
    if mode == "backward":
        y.backward(retain_graph=True)
        z.backward()
    elif mode == "inputs":
        y.backward(inputs=[b, h] if retain_h else [b])
    else:
        weights = [L.tensor(1.5, dtype=L.float64), L.tensor(-0.5, dtype=L.float64)]
        returned = grad([y, z], [a, b, h], grad_outputs=weights)
        return [g.tolist() for g in returned], seen
    stored = [None if t.grad is None else t.grad.tolist() for t in (a, b)]
    return stored + [h.grad.tolist() if retain_h and h.grad is not None else None], seen


@pytest.mark.parametrize("hook_h, retain_h, hook_a, mode", COMBINATIONS)
def test_hooks_and_ways_of_asking_match_pytorch(hook_h, retain_h, hook_a, mode):
    torch = pytest.importorskip("torch")
    ours = run(pg, pg.autograd.grad, hook_h, retain_h, hook_a, mode)
    theirs = run(torch, torch.autograd.grad, hook_h, retain_h, hook_a, mode)
    for mine, reference in zip(ours[0], theirs[0]):
        assert (mine is None) == (reference is None)
        if mine is not None:
            np.testing.assert_allclose(mine, reference, rtol=1e-12)
    assert len(ours[1]) == len(theirs[1])  # a leaf's hook runs as often as PyTorch's
    for mine, reference in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(mine, reference, rtol=1e-12)


# what a .grad assignment or a hook may not do, refused by PyTorch and by pathgrad alike
BAD_GRADS = {
    "another dtype": lambda L, w: L.ones(4, 2, dtype=L.float32),
    "another shape": lambda L, w: L.ones(2, dtype=L.float64),
    "not a tensor": lambda L, w: "0.5",
    "itself": lambda L, w: w,
}
BAD_HOOKS = {
    "another shape": lambda L: lambda g: L.ones(2, dtype=L.float64),
    "another dtype": lambda L: lambda g: g.to(L.float32),
    "not a tensor": lambda L: lambda g: 5,
}


def refusal(action, *args):
    try:
        action(*args)
    except (RuntimeError, TypeError) as error:
        return type(error)
    return None


@pytest.mark.parametrize("case", BAD_GRADS)
def test_a_grad_pytorch_refuses_is_refused(case):
    torch = pytest.importorskip("torch")
    kinds = []
    for L in (pg, torch):
        w = L.zeros(4, 2, dtype=L.float64, requires_grad=True)
        bad = BAD_GRADS[case](L, w)
        kinds.append(refusal(setattr, w, "grad", bad))
    assert kinds[0] is not None and kinds[0] is kinds[1]


def backward_through(t):
    (t * 3).sum().backward()


@pytest.mark.parametrize("leaf", [True, False])
@pytest.mark.parametrize("case", BAD_HOOKS)
def test_a_hook_result_pytorch_refuses_is_refused(case, leaf):
    torch = pytest.importorskip("torch")
    kinds = []
    for L in (pg, torch):
        x = L.zeros(3, dtype=L.float64, requires_grad=True)
        hooked = x if leaf else x * 2
        hooked.register_hook(BAD_HOOKS[case](L))
        kinds.append(refusal(backward_through, hooked))
    assert kinds[0] is not None and kinds[0] is kinds[1]

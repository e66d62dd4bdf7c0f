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

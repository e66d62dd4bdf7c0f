"""Random programs of views and in-place changes, run in pathgrad and in PyTorch: the same
values and gradients, or an error from pathgrad; never a different gradient.

A program starts from x = a * 1 (a a leaf of shape (3, 4), b a 0-d leaf) and applies steps drawn
by hypothesis: take a view of a tensor it has (slices, a row, a column, a transpose, view,
reshape, detach), with gradients on or under no_grad; change one in place (add_, mul_, sub_,
div_, zero_, fill_, clamp_, relu_, copy_, a row assignment), with gradients on or under no_grad;
or use one in an op that saves it (exp, tanh, v * v, v * b). The loss sums every use and x
itself. Where PyTorch refuses a program that pathgrad runs (an op that keeps its own output,
changed in place later), the gradient is checked against one-sided finite differences instead.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import pathgrad as pg

A = np.linspace(-1.0, 1.2, 12).reshape(3, 4)
B = np.array(0.7)

VIEWS = {  # name: (view, whether it applies to a tensor of this shape)
    "rows 1:": (lambda v: v[1:], lambda shape: len(shape) >= 1 and shape[0] >= 2),
    "cols 1:": (lambda v: v[:, 1:], lambda shape: len(shape) == 2 and shape[1] >= 2),
    "row 0": (lambda v: v[0], lambda shape: len(shape) >= 1),
    "col last": (lambda v: v[:, -1], lambda shape: len(shape) == 2),
    "transpose": (lambda v: v.T, lambda shape: len(shape) == 2),
    "step 2": (lambda v: v[::2], lambda shape: len(shape) >= 1 and shape[0] >= 2),
    "view(-1)": (lambda v: v.view(-1), lambda shape: True),
    "reshape(-1)": (lambda v: v.reshape(-1), lambda shape: True),
    "detach": (lambda v: v.detach(), lambda shape: True),
}
CHANGES = {
    "add_ 0.5": lambda L, v, b: v.add_(0.5),
    "mul_ 1.5": lambda L, v, b: v.mul_(1.5),
    "sub_ b": lambda L, v, b: v.sub_(b),
    "mul_ b": lambda L, v, b: v.mul_(b),
    "div_ 2": lambda L, v, b: v.div_(2.0),
    "first = b * 3": lambda L, v, b: v.__setitem__(0, b * 3),
    "zero_": lambda L, v, b: v.zero_(),
    "fill_ b": lambda L, v, b: v.fill_(b),
    "clamp_": lambda L, v, b: v.clamp_(-0.5, 0.5),
    "relu_": lambda L, v, b: v.relu_(),
    "copy_ b": lambda L, v, b: v.copy_(b.expand(v.shape)),
}
USES = {
    "exp": lambda v, b: v.exp(),
    "square": lambda v, b: v * v,
    "times b": lambda v, b: v * b,
    "plus 1": lambda v, b: v + 1.0,
    "tanh": lambda v, b: v.tanh(),
}

step = st.one_of(
    st.tuples(st.just("view"), st.integers(0, 20), st.sampled_from(sorted(VIEWS))),
    st.tuples(st.just("untracked view"), st.integers(0, 20), st.sampled_from(sorted(VIEWS))),
    st.tuples(st.just("change"), st.integers(0, 20), st.sampled_from(sorted(CHANGES))),
    st.tuples(st.just("untracked"), st.integers(0, 20), st.sampled_from(sorted(CHANGES))),
    st.tuples(st.just("use"), st.integers(0, 20), st.sampled_from(sorted(USES))),
)


def run(L, program, a, b):
    """The program in library L; returns the loss, or raises what L raises."""
    x = a * 1
    tensors = [x, a]  # the leaf too: changed under no_grad, as an optimizer step does
    uses = []
    for kind, index, name in program:
        v = tensors[index % len(tensors)]
        if kind in ("view", "untracked view"):
            view, applies = VIEWS[name]
            if applies(tuple(v.shape)):
                with L.set_grad_enabled(kind == "view"):
                    tensors.append(view(v))
        elif kind == "change":
            if v.ndim == 0 and name == "first = b * 3":
                continue
            CHANGES[name](L, v, b)
        elif kind == "untracked":
            if v.ndim == 0 and name == "first = b * 3":
                continue
            with L.no_grad():
                CHANGES[name](L, v, b.detach())
        else:
            uses.append(USES[name](v, b))
    loss = x.sum()
    for u in uses:
        loss = loss + u.sum()
    return loss


def outcome(L, program):
    a = L.tensor(A, requires_grad=True)
    b = L.tensor(B, requires_grad=True)
    try:
        loss = run(L, program, a, b)
        loss.backward()
    except (RuntimeError, ValueError, IndexError) as error:  # shape errors are ValueErrors
        return "error", str(error)
    grads = tuple(None if t.grad is None else t.grad.numpy().copy() for t in (a, b))
    return float(loss.detach().numpy()), grads


def loss_value(program, a_value, b_value):
    with pg.no_grad():
        return float(run(pg, program, pg.tensor(a_value), pg.tensor(b_value)).item())


def one_sided_differences(program, eps):
    """Forward and backward differences of the loss for every element of a and b."""
    base = loss_value(program, A, B)
    forward, backward = [], []
    for value, first in ((A, True), (B, False)):
        ahead, behind = np.zeros(value.shape), np.zeros(value.shape)
        for i in np.ndindex(value.shape):
            up, down = value.copy(), value.copy()
            up[i] += eps
            down[i] -= eps
            ahead[i] = (loss_value(program, *((up, B) if first else (A, up))) - base) / eps
            behind[i] = (base - loss_value(program, *((down, B) if first else (A, down)))) / eps
        forward.append(ahead)
        backward.append(behind)
    return forward, backward


def check_against_finite_differences(program, ours):
    # a change under no_grad, and memory read through detach(), are invisible to autograd by
    # definition, so differences of the value are no oracle for such a program
    assume(all(kind == "change" or name != "detach" for kind, _, name in program))
    assume(all(kind not in ("untracked", "untracked view") for kind, _, _ in program))
    forward, backward = one_sided_differences(program, 1e-7)
    # at a kink (relu_, clamp_) the two sides disagree and no gradient is "the" answer
    assume(all(np.allclose(f, b, rtol=1e-4, atol=1e-5) for f, b in zip(forward, backward)))
    for mine, ahead, behind in zip(ours[1], forward, backward):
        reference = (ahead + behind) / 2
        np.testing.assert_allclose(
            np.zeros_like(reference) if mine is None else mine, reference, rtol=1e-5, atol=1e-5
        )


@settings(max_examples=400, deadline=None)
@given(st.lists(step, min_size=1, max_size=8))
def test_random_view_and_in_place_programs_match_pytorch(program):
    torch = pytest.importorskip("torch")
    ours = outcome(pg, program)
    theirs = outcome(torch, program)
    if ours[0] == "error":
        # refusing is allowed (a clear error rather than a wrong gradient), but the refusal
        # must be one of the engine's own explanations
        assert any(words in ours[1] for words in ("in place", "in-place", "without copying"))
        return
    if theirs[0] == "error":
        # PyTorch refuses some programs pathgrad runs (an op that keeps its own output, changed
        # in place later): then the gradient must be the finite-difference one
        check_against_finite_differences(program, ours)
        return
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-12)
    for mine, reference in zip(ours[1], theirs[1]):
        assert (mine is None) == (reference is None)
        if mine is not None:
            np.testing.assert_allclose(mine, reference, rtol=1e-10, atol=1e-12)

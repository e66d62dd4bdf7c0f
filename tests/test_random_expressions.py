"""Random expressions over broadcasting shapes, run in pathgrad and in PyTorch (float64): the same
loss, gradients and second derivatives.

An expression starts from up to three inputs whose shapes broadcast against each other (size-1
and missing leading dims) and applies steps drawn by hypothesis: a unary op or reduction on any
value so far, or a binary op on two of them. The loss is sum(out * out); the second derivative
is that of the sum of the squared gradients. Where PyTorch's own second derivative is not finite
(its norm at the zero vector), there is nothing to compare.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pathgrad as pg
from op_cases import torch_namespace

UNARY = {
    "exp": lambda L, x: (x * 0.3).exp(),
    "tanh": lambda L, x: x.tanh(),
    "sigmoid": lambda L, x: x.sigmoid(),
    "sin": lambda L, x: x.sin(),
    "square": lambda L, x: x * x,
    "softplus": lambda L, x: L.softplus(x),
    "gelu": lambda L, x: L.gelu(x),
    "log(|x| + 1)": lambda L, x: (x.abs() + 1.0).log(),
    "neg": lambda L, x: -x,
    "sum(-1, keepdim)": lambda L, x: x.sum(-1, keepdim=True),
    "mean(0)": lambda L, x: x.mean(0),
    "softmax(-1)": lambda L, x: x.softmax(-1),
    "logsumexp(-1, keepdim)": lambda L, x: x.logsumexp(-1, keepdim=True),
    "amax(-1, keepdim)": lambda L, x: x.amax(-1, keepdim=True),
    "var(-1, keepdim)": lambda L, x: x.var(-1, keepdim=True),
    "transpose(0, -1)": lambda L, x: x.transpose(0, -1),
    "norm": lambda L, x: x.norm(),
    "max()": lambda L, x: x.max(),
    "cat with 2x": lambda L, x: L.cat([x, x * 2], -1),
    "flip(-1)": lambda L, x: x.flip(-1),
    "[..., :1]": lambda L, x: x[..., :1],
}
NEEDS_A_DIM = {
    "sum(-1, keepdim)",
    "mean(0)",
    "softmax(-1)",
    "logsumexp(-1, keepdim)",
    "amax(-1, keepdim)",
    "var(-1, keepdim)",
    "transpose(0, -1)",
    "cat with 2x",
    "flip(-1)",
    "[..., :1]",
}
BINARY = {
    "add": lambda L, x, y: x + y,
    "sub": lambda L, x, y: x - y,
    "mul": lambda L, x, y: x * y,
    "div": lambda L, x, y: x / (y * y + 1.0),
    "maximum": lambda L, x, y: L.maximum(x, y),
    "where": lambda L, x, y: L.where(x > y, x, y * 2),
    "clamp(max=y)": lambda L, x, y: x.clamp(max=y),
    "remainder": lambda L, x, y: L.remainder(x, y * y + 1.0),
}


@st.composite
def expressions(draw):
    base = tuple(draw(st.lists(st.integers(1, 3), max_size=3)))
    shapes = [base]
    for _ in range(draw(st.integers(0, 2))):
        shape = [1 if draw(st.booleans()) else size for size in base]
        shapes.append(tuple(shape[draw(st.integers(0, len(shape))) :]))
    steps = draw(
        st.lists(
            st.one_of(
                st.tuples(st.sampled_from(sorted(UNARY)), st.integers(0, 50)),
                st.tuples(st.sampled_from(sorted(BINARY)), st.integers(0, 50), st.integers(0, 50)),
            ),
            min_size=1,
            max_size=6,
        )
    )
    seed = draw(st.integers(0, 2**16))
    return shapes, steps, seed


def evaluate(L, grad, arrays, steps):
    inputs = [L.tensor(a, requires_grad=True) for a in arrays]
    values = list(inputs)
    for step in steps:
        if len(step) == 2:
            name, i = step
            x = values[i % len(values)]
            if name in NEEDS_A_DIM and x.ndim == 0:
                continue
            if name == "var(-1, keepdim)" and x.shape[-1] < 2:
                continue
            values.append(UNARY[name](L, x))
        else:
            name, i, j = step
            x, y = values[i % len(values)], values[j % len(values)]
            try:
                np.broadcast_shapes(tuple(x.shape), tuple(y.shape))
            except ValueError:
                continue
            values.append(BINARY[name](L, x, y))
    out = values[-1]
    loss = (out * out).sum()
    grads = grad(loss, inputs, create_graph=True, allow_unused=True)
    squares = [(g * g).sum() for g in grads if g is not None]
    second = [None] * len(inputs)
    if squares and any(s.requires_grad for s in squares):
        total = squares[0]
        for s in squares[1:]:
            total = total + s
        second = grad(total, inputs, allow_unused=True)
    return loss, grads, second


def as_array(t):
    return None if t is None else np.asarray(t.detach().numpy() if hasattr(t, "detach") else t)


def assert_same(ours, theirs, rtol, atol):
    for mine, reference in zip(ours, theirs):
        mine, reference = as_array(mine), as_array(reference)
        if reference is not None and not np.isfinite(reference).all():
            continue  # PyTorch's own value is not finite: nothing to compare
        # an input no path reaches: None in one library, zeros in the other is the same answer
        mine = np.zeros_like(reference) if mine is None and reference is not None else mine
        reference = np.zeros_like(mine) if reference is None and mine is not None else reference
        if mine is not None:
            assert mine.shape == reference.shape
            np.testing.assert_allclose(mine, reference, rtol=rtol, atol=atol)


@settings(max_examples=200, deadline=None)
@given(expressions())
def test_random_expressions_match_pytorch(expression):
    torch = pytest.importorskip("torch")
    shapes, steps, seed = expression
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(0.3, 1.5, size=s) * rng.choice([-1.0, 1.0], size=s) for s in shapes]
    ours = evaluate(pg, pg.autograd.grad, arrays, steps)
    theirs = evaluate(torch_namespace(), torch.autograd.grad, [a.copy() for a in arrays], steps)
    np.testing.assert_allclose(as_array(ours[0]), as_array(theirs[0]), rtol=1e-10, atol=1e-12)
    assert_same(ours[1], theirs[1], rtol=1e-8, atol=1e-10)
    assert_same(ours[2], theirs[2], rtol=1e-7, atol=1e-9)

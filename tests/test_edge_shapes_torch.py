"""Empty and 0-d tensors through ops and their gradients, against PyTorch: the same shapes,
values and gradients, or an error from both."""

import numpy as np
import pytest

import pathgrad as pg
from op_cases import torch_namespace

torch = pytest.importorskip("torch")
TORCH = torch_namespace()

CASES = {
    "sum over an empty dim": (lambda L, x: x.sum(0), [(0, 3)]),
    "mean over an empty dim": (lambda L, x: x.mean(0), [(0, 3)]),
    "mean of empty rows": (lambda L, x: x.mean(1), [(0, 3)]),
    "prod over an empty dim": (lambda L, x: x.prod(0), [(0, 3)]),
    "var over an empty dim": (lambda L, x: x.var(0), [(0, 3)]),
    "std over an empty dim": (lambda L, x: x.std(0), [(0, 3)]),
    "logsumexp over an empty dim": (lambda L, x: x.logsumexp(0), [(0, 3)]),
    "softmax of empty rows": (lambda L, x: x.softmax(1), [(3, 0)]),
    "log_softmax of empty rows": (lambda L, x: x.log_softmax(1), [(3, 0)]),
    "norm of empty": (lambda L, x: x.norm(), [(0, 3)]),
    "amax of no rows": (lambda L, x: x.amax(1), [(0, 3)]),
    "amax over an empty dim": (lambda L, x: x.amax(0), [(0, 3)]),
    "max of empty": (lambda L, x: x.max(), [(0, 3)]),
    "max(dim) of no rows": (lambda L, x: x.max(1)[0], [(0, 3)]),
    "min(dim) over an empty dim": (lambda L, x: x.min(0)[0], [(0, 3)]),
    "argmax of no rows": (lambda L, x: x * 0 + x.argmax(1).sum(), [(0, 3)]),
    "matmul, inner dim 0": (lambda L, x, y: x @ y, [(2, 0), (0, 3)]),
    "matmul, no rows": (lambda L, x, y: x @ y, [(0, 2), (2, 3)]),
    "dot of empty vectors": (lambda L, x, y: x @ y, [(0,), (0,)]),
    "cat with empty": (lambda L, x, y: L.cat([x, y], 0), [(0, 3), (2, 3)]),
    "broadcast of empty": (lambda L, x, y: x + y, [(0, 3), (3,)]),
    "broadcast to empty": (lambda L, x, y: x + y, [(0, 1), (1, 3)]),
    "empty index": (lambda L, x: x[L.tensor([], dtype=L.int64)], [(4, 3)]),
    "empty mask": (lambda L, x: x[x > 100], [(4, 3)]),
    "expand to 0": (lambda L, x: x.expand(0, 3), [(1, 3)]),
    "repeat 0 times": (lambda L, x: x.repeat(0, 2), [(2, 3)]),
    "max(dim) of 0-d": (lambda L, x: x.max(0)[0], [()]),
    "min(-1) of 0-d": (lambda L, x: x.min(-1)[0], [()]),
    "softmax of 0-d": (lambda L, x: x.softmax(0), [()]),
    "logsumexp of 0-d": (lambda L, x: x.logsumexp(0), [()]),
    "var of 0-d over dim 0": (lambda L, x: x.var(0), [()]),
    "prod of 0-d over dim 0": (lambda L, x: x.prod(0), [()]),
    "sum of 0-d over dim 0": (lambda L, x: x.sum(0), [()]),
    "std of 0-d": (lambda L, x: x.std(), [()]),
}


def _run(lib, namespace, fn, arrays):
    xs = [lib.tensor(a, requires_grad=True) for a in arrays]
    try:
        out = fn(namespace, *xs)
        out.sum().backward()
    except (RuntimeError, ValueError, IndexError):
        return None
    value = out.detach().numpy() if lib is torch else out.numpy()
    grads = [np.zeros(a.shape) if x.grad is None else x.grad.numpy() for a, x in zip(arrays, xs)]
    return tuple(out.shape), value, grads


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", list(CASES))
def test_empty_and_0d_tensors_match_pytorch(name):
    fn, shapes = CASES[name]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape) for shape in shapes]
    ours, theirs = _run(pg, pg, fn, arrays), _run(torch, TORCH, fn, arrays)
    assert (ours is None) == (theirs is None), f"one raised, one did not: {ours} vs {theirs}"
    if ours is None:
        return
    assert ours[0] == theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12, atol=1e-12)
    for got, expected in zip(ours[2], theirs[2]):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)

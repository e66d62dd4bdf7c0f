"""PyTorch as the oracle: forward values and gradients in float64, for every case it has."""

import numpy as np
import pytest

import pathgrad as pg
from op_cases import ALL_CASES, inputs_for, torch_namespace

torch = pytest.importorskip("torch")
TORCH = torch_namespace() if torch else None


def _run_both(case, arrays, weights_seed=7):
    ours = [pg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out_ours = case.fn(pg, *ours)
    out_theirs = case.fn(TORCH, *theirs)
    weights = np.random.default_rng(weights_seed).standard_normal(out_ours.shape)
    (out_ours * pg.tensor(weights)).sum().backward()
    (out_theirs * torch.tensor(weights)).sum().backward()
    return ours, theirs, out_ours, out_theirs


@pytest.mark.parametrize("case", [c for c in ALL_CASES if c.torch], ids=lambda c: c.id)
def test_matches_pytorch(case):
    arrays = inputs_for(case)
    ours, theirs, out_ours, out_theirs = _run_both(case, arrays)
    np.testing.assert_allclose(
        out_ours.numpy(), out_theirs.detach().numpy(), rtol=case.torch_rtol, atol=1e-12
    )
    for x, t in zip(ours, theirs):
        expected = np.zeros(x.shape) if t.grad is None else t.grad.numpy()
        got = np.zeros(x.shape) if x.grad is None else x.grad.numpy()
        np.testing.assert_allclose(got, expected, rtol=case.torch_rtol, atol=1e-12)


NAN, INF = float("nan"), float("inf")

TIES = [
    ("max at ties", lambda L, x: x.max(), [[1.0, 3.0, 3.0]]),
    ("max(dim) at ties", lambda L, x: x.max(0)[0], [[1.0, 3.0, 3.0]]),
    ("amax at ties", lambda L, x: x.amax(), [[3.0, 1.0, 3.0, 3.0]]),
    ("abs at 0", lambda L, x: x.abs(), [[0.0, -1.0, 2.0]]),
    ("relu at 0", lambda L, x: x.relu(), [[0.0, -1.0, 2.0]]),
    ("clamp at bounds", lambda L, x: x.clamp(0.0, 1.0), [[0.0, 1.0, 2.0, -1.0]]),
    ("maximum at ties", lambda L, x, y: L.maximum(x, y), [[1.0, 2.0], [1.0, 3.0]]),
    ("std of a constant", lambda L, x: x.std(), [[2.0, 2.0, 2.0]]),
    ("norm at zero", lambda L, x: x.norm(), [[0.0, 0.0]]),
    ("prod with one zero", lambda L, x: x.prod(), [[0.0, 2.0, 1.0, 3.0]]),
    ("prod with two zeros", lambda L, x: x.prod(), [[0.0, 2.0, 0.0, 3.0]]),
    ("pow 0 ** y", lambda L, x, y: x**y, [[0.0, 2.0], [0.0, 3.0]]),
    ("sqrt at 0", lambda L, x: x.sqrt(), [[0.0, 4.0]]),
    ("max with NaNs", lambda L, x: x.max(), [[1.0, NAN, 2.0, NAN]]),
    ("min with NaNs", lambda L, x: x.min(), [[NAN, 1.0, NAN]]),
    (
        "max(dim) with NaNs",
        lambda L, x: x.max(1)[0],
        [[[1.0, NAN, 2.0, NAN], [1.0, 2.0, 4.0, 3.0]]],
    ),
    (
        "min(dim) with NaNs",
        lambda L, x: x.min(1)[0],
        [[[1.0, NAN, 2.0, NAN], [1.0, 2.0, 4.0, 3.0]]],
    ),
    ("amax with a NaN", lambda L, x: x.amax(), [[NAN, 0.0, 1.0]]),
    (
        "maximum with NaNs",
        lambda L, x, y: L.maximum(x, y),
        [[NAN, 1.0, NAN, 2.0], [0.0, NAN, NAN, 2.0]],
    ),
    (
        "minimum with NaNs",
        lambda L, x, y: L.minimum(x, y),
        [[NAN, 1.0, NAN, 2.0], [0.0, NAN, NAN, 2.0]],
    ),
    ("relu at NaN", lambda L, x: x.relu(), [[NAN, -1.0, 0.0, 2.0]]),
    ("abs at NaN", lambda L, x: x.abs(), [[NAN, -1.0, 0.0]]),
    ("clamp at NaN", lambda L, x: x.clamp(0.0, 1.0), [[NAN, 0.5]]),
    ("sign of NaN", lambda L, x: x * x.sign(), [[NAN, -2.0, 0.0, 3.0]]),
    ("softmax with inf", lambda L, x: x.softmax(1), [[[INF, -1.0, 1.0], [0.5, -INF, 1.0]]]),
    ("log_softmax with inf", lambda L, x: x.log_softmax(1), [[[INF, -1.0], [0.5, -INF]]]),
    ("softmax of -infs", lambda L, x: x.softmax(0), [[-INF, -INF]]),
    ("logsumexp of -infs", lambda L, x: x.logsumexp(0), [[-INF, -INF]]),
    ("var with inf", lambda L, x: x.var(1), [[[0.5, -1.0, INF], [1.0, 2.0, 4.0]]]),
    ("var of one element", lambda L, x: x.var(), [[2.0]]),
    (
        "clamp between tensors: below, inside, above, at bounds, crossed, NaN",
        lambda L, x, low, high: x.clamp(low, high),
        [
            [1.0, 2.5, 5.0, 2.0, 3.0, 2.0, 0.0, 2.5, 5.0, NAN, 2.5, 5.0, 1.0],
            [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 2.0, NAN, NAN, 2.0],
            [3.0, 3.0, 3.0, 3.0, 3.0, 2.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, NAN],
        ],
    ),
    (
        "clamp to a tensor min",
        lambda L, x, low: x.clamp(min=low),
        [[1.0, 2.0, NAN, 3.0], [2.0, 2.0, 1.0, NAN]],
    ),
    (
        "xlogy at x = 0 with y > 0, y = 0, y < 0, y NaN",
        lambda L, x, y: L.xlogy(x, y),
        [[0.0, 0.0, 2.0, 0.0, 1.0, 0.0, 1.0], [2.0, 0.0, 0.0, NAN, 3.0, -1.0, -1.0]],
    ),
    ("nan_to_num at NaN and infinities", lambda L, x: x.nan_to_num(), [[1.0, NAN, INF, -INF]]),
    (
        "nan_to_num with given values",
        lambda L, x: L.nan_to_num(x, nan=2.0, posinf=9.0, neginf=-9.0),
        [[NAN, INF, -INF, 0.5]],
    ),
    (
        "fmax and fmin: ties, NaN on either side",
        lambda L, x, y: L.fmax(x, y) * 2 + L.fmin(x, y),
        [[1.0, NAN, 2.0, NAN, 3.0], [1.0, 3.0, NAN, NAN, 0.5]],
    ),
    (
        "floor, ceil, trunc, round: zero gradients",
        lambda L, x: x.floor() + x.ceil() + x.trunc() + x.round(),
        [[0.5, -1.5, 2.5, 2.0]],
    ),
    (
        "hypot at the origin",
        lambda L, x, y: L.hypot(x, y),
        [[0.0, 3.0], [0.0, 4.0]],
    ),
    (
        "logaddexp of infinities",
        lambda L, x, y: L.logaddexp(x, y),
        [[-INF, INF, 1.0], [-INF, 1.0, -INF]],
    ),
    (
        "fmod by negatives",
        lambda L, x, y: L.fmod(x, y),
        [[7.0, -7.0, 5.0, 6.0], [2.0, 3.0, -2.0, 3.0]],
    ),
    (
        "logdet of a negative determinant: NaN, and no gradient",
        lambda L, x: L.logdet(x),
        [[[[1.0, 2.0], [3.0, 4.0]], [[2.0, 0.0], [0.0, 3.0]]]],
    ),
    ("sinc at 0: 1, with a zero gradient", lambda L, x: L.sinc(x), [[0.0, 1.0, -0.5]]),
    (
        "scatter_reduce amax: ties among src and with self share the gradient",
        lambda L, x, y: x.scatter_reduce(0, L.tensor([0, 0, 1]), y, "amax"),
        [[2.0, 1.0, 5.0], [2.0, 2.0, 0.5]],
    ),
    (
        "remainder",
        lambda L, x, y: L.remainder(x, y),
        [[7.0, -7.0, 5.0, 6.0], [2.0, 3.0, -2.0, 3.0]],
    ),
]


@pytest.mark.parametrize("name, fn, values", TIES, ids=[t[0] for t in TIES])
def test_ties_and_kinks_match_pytorch(name, fn, values):
    arrays = [np.array(v, dtype=np.float64) for v in values]
    ours = [pg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out_ours, out_theirs = fn(pg, *ours), fn(TORCH, *theirs)
    np.testing.assert_array_equal(out_ours.numpy(), out_theirs.detach().numpy())
    out_ours.sum().backward()
    out_theirs.sum().backward()
    for x, t in zip(ours, theirs):
        np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_relu_backward_gives_0_where_blocked_even_for_an_infinite_gradient():
    x = pg.tensor([-1.0, 2.0, NAN], requires_grad=True)
    x.relu().backward(pg.tensor([INF, INF, 1.0]))
    expected = torch.tensor([-1.0, 2.0, NAN], requires_grad=True)
    expected.relu().backward(torch.tensor([INF, INF, 1.0]))
    np.testing.assert_array_equal(x.grad.numpy(), expected.grad.numpy())


def test_sigmoid_and_softplus_far_out_as_pytorch_in_float64():
    values = [-800.0, -100.0, -30.0, 0.0, 30.0, 800.0]
    ours, theirs = pg.tensor(values, dtype=pg.float64), torch.tensor(values, dtype=torch.float64)
    np.testing.assert_allclose(ours.sigmoid().numpy(), theirs.sigmoid().numpy(), rtol=1e-14)
    np.testing.assert_allclose(
        pg.softplus(ours).numpy(), torch.nn.functional.softplus(theirs).numpy(), rtol=1e-14
    )


@pytest.mark.parametrize("exponent", [3, -2, -0.5, 2, -1, 3.0])
def test_number_powers_take_pytorchs_shortcuts_bit_for_bit(exponent):
    values = np.random.default_rng(0).uniform(0.1, 3.0, 1000).astype(np.float32)
    np.testing.assert_array_equal(
        (pg.tensor(values) ** exponent).numpy(), (torch.tensor(values) ** exponent).numpy()
    )

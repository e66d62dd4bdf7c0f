"""Finite values and gradients for large inputs; accurate variance on large offsets."""

import numpy as np
import pytest

import pathgrad as pg

EXTREMES = np.array([-1e4, -50.0, -1.0, 0.0, 1.0, 50.0, 1e4])
FUNCTIONS = {
    "softmax": lambda L, x: x.softmax(0),
    "log_softmax": lambda L, x: x.log_softmax(0),
    "logsumexp": lambda L, x: x.logsumexp(0),
    "sigmoid": lambda L, x: x.sigmoid(),
    "softplus": lambda L, x: L.softplus(x),
    # the losses and normalisations of pg.nn, at logits up to +-1e4
    "cross_entropy": lambda L, x: L.nn.functional.cross_entropy(x.reshape(1, 7), L.tensor([3])),
    "binary_cross_entropy_with_logits": lambda L, x: (
        L.nn.functional.binary_cross_entropy_with_logits(x, (x.detach() > 0).to(x.dtype))
    ),
    "kl_div": lambda L, x: L.nn.functional.kl_div(
        x.log_softmax(0), x.detach().softmax(0).flip(0), reduction="sum"
    ),
    "logsigmoid": lambda L, x: L.nn.functional.logsigmoid(x),
    "layer_norm": lambda L, x: L.nn.functional.layer_norm(x, (7,)),
    "batch_norm": lambda L, x: L.nn.functional.batch_norm(
        x.reshape(7, 1), None, None, training=True
    ),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_finite_at_extremes(name, dtype):
    x = pg.tensor(EXTREMES.astype(dtype), requires_grad=True)
    out = FUNCTIONS[name](pg, x)
    weights = pg.tensor(np.linspace(-1, 1, out.numel()).reshape(out.shape).astype(dtype))
    (out * weights).sum().backward()
    assert np.isfinite(out.numpy()).all() and np.isfinite(x.grad.numpy()).all()
    assert x.grad.dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_extremes_match_pytorch(name, dtype):
    torch = pytest.importorskip("torch")
    from op_cases import torch_namespace

    lib = torch_namespace()
    x = pg.tensor(EXTREMES.astype(dtype), requires_grad=True)
    t = torch.tensor(EXTREMES.astype(dtype), requires_grad=True)
    out, expected = FUNCTIONS[name](pg, x), FUNCTIONS[name](lib, t)
    weights = np.linspace(-1, 1, out.numel()).reshape(out.shape).astype(dtype)
    (out * pg.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    tolerance = 1e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(
        out.numpy(), expected.detach().numpy(), rtol=tolerance, atol=tolerance
    )
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=tolerance, atol=tolerance)


def test_var_and_std_accurate_on_large_offsets():
    noise = np.random.default_rng(0).standard_normal(1000)
    data = 1e8 + noise
    exact_var = np.var(noise, ddof=1)  # the offset does not change the variance
    x = pg.tensor(data, requires_grad=True)
    assert x.var().item() == pytest.approx(exact_var, rel=1e-6)
    assert x.std().item() == pytest.approx(np.sqrt(exact_var), rel=1e-6)
    x.var().backward()
    expected_grad = 2 * (noise - noise.mean()) / (len(noise) - 1)
    np.testing.assert_allclose(x.grad.numpy(), expected_grad, atol=1e-6)


def test_float32_var_on_an_offset_float32_can_hold():
    noise = np.random.default_rng(1).standard_normal(1000).astype(np.float32)
    data = (np.float32(1e4) + noise).astype(np.float32)
    x = pg.tensor(data)
    assert x.var().item() == pytest.approx(np.var(data.astype(np.float64), ddof=1), rel=1e-4)

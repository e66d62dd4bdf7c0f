"""pg.nn against torch.nn: each layer, given PyTorch's weights through load_state_dict, gives
PyTorch's outputs and gradients (float64), has PyTorch's state-dict keys and printed form."""

import numpy as np
import pytest

import pathgrad as pg

torch = pytest.importorskip("torch")


def _pair(make):
    """The same layer built by both libraries, pathgrad's holding PyTorch's weights."""
    theirs = make(torch).double()
    ours = make(pg).double()
    ours.load_state_dict(theirs.state_dict())  # PyTorch tensors load as they are
    return ours, theirs


def _inputs(shapes, seed=0, integer=None):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in shapes]


def _run(ours, theirs, arrays, call=None, grad_inputs=True):
    call = call or (lambda module, *xs: module(*xs))
    ours_in = [pg.tensor(a, requires_grad=grad_inputs) for a in arrays]
    theirs_in = [torch.tensor(a, requires_grad=grad_inputs) for a in arrays]
    out_ours, out_theirs = call(ours, *ours_in), call(theirs, *theirs_in)
    flat_ours = out_ours if isinstance(out_ours, (tuple, list)) else (out_ours,)
    flat_theirs = out_theirs if isinstance(out_theirs, (tuple, list)) else (out_theirs,)
    flat_ours, flat_theirs = _flatten(flat_ours), _flatten(flat_theirs)
    total_ours, total_theirs = 0, 0
    for position, (a, b) in enumerate(zip(flat_ours, flat_theirs)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
        weights = np.random.default_rng(position).standard_normal(tuple(a.shape))
        total_ours = total_ours + (a * pg.tensor(weights)).sum()
        total_theirs = total_theirs + (b * torch.tensor(weights)).sum()
    total_ours.backward()
    total_theirs.backward()
    if grad_inputs:
        for x, t in zip(ours_in, theirs_in):
            _close_grad(x.grad, t.grad)
    named = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        _close_grad(p.grad, named[name].grad, name)
    return out_ours, out_theirs


def _flatten(items):
    flat = []
    for item in items:
        if isinstance(item, (tuple, list)):
            flat.extend(_flatten(item))
        elif item is not None:
            flat.append(item)
    return flat


def _close_grad(ours, theirs, name=""):
    expected = None if theirs is None else theirs.numpy()
    got = None if ours is None else ours.numpy()
    if expected is None or got is None:
        assert expected is None or not expected.any(), name
        assert got is None or not got.any(), name
        return
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12, err_msg=name)


LAYERS = [
    ("Linear", lambda L: L.nn.Linear(4, 3), [(5, 4)]),
    ("Linear 3-D", lambda L: L.nn.Linear(4, 3, bias=False), [(2, 5, 4)]),
    ("Linear 1-D", lambda L: L.nn.Linear(4, 3), [(4,)]),
    ("Bilinear", lambda L: L.nn.Bilinear(3, 2, 4), [(5, 3), (5, 2)]),
    ("LayerNorm", lambda L: L.nn.LayerNorm(4), [(3, 2, 4)]),
    ("LayerNorm 2 dims", lambda L: L.nn.LayerNorm((2, 4), elementwise_affine=False), [(3, 2, 4)]),
    ("Conv1d", lambda L: L.nn.Conv1d(3, 4, 3), [(2, 3, 8)]),
    (
        "Conv1d strided",
        lambda L: L.nn.Conv1d(4, 2, 2, stride=2, padding=1, bias=False),
        [(2, 4, 9)],
    ),
    (
        "Conv1d grouped",
        lambda L: L.nn.Conv1d(4, 6, 3, groups=2, padding="same", dilation=2),
        [(2, 4, 7)],
    ),
    (
        "Conv1d reflect",
        lambda L: L.nn.Conv1d(2, 3, 3, padding=2, padding_mode="reflect"),
        [(1, 2, 6)],
    ),
    ("Conv1d unbatched", lambda L: L.nn.Conv1d(2, 3, 2), [(2, 6)]),
    ("Tanh", lambda L: L.nn.Tanh(), [(3, 4)]),
    ("ReLU", lambda L: L.nn.ReLU(), [(3, 4)]),
    ("GELU", lambda L: L.nn.GELU(), [(3, 4)]),
    ("GELU tanh", lambda L: L.nn.GELU(approximate="tanh"), [(3, 4)]),
    ("SiLU", lambda L: L.nn.SiLU(), [(3, 4)]),
    ("Sigmoid", lambda L: L.nn.Sigmoid(), [(3, 4)]),
    ("LeakyReLU", lambda L: L.nn.LeakyReLU(0.1), [(3, 4)]),
    ("ELU", lambda L: L.nn.ELU(), [(3, 4)]),
    ("Softplus", lambda L: L.nn.Softplus(beta=2.0), [(3, 4)]),
    ("Softmax", lambda L: L.nn.Softmax(dim=1), [(3, 4)]),
    ("LogSoftmax", lambda L: L.nn.LogSoftmax(dim=0), [(3, 4)]),
    ("Flatten", lambda L: L.nn.Flatten(), [(2, 3, 4)]),
    ("Unflatten", lambda L: L.nn.Unflatten(1, (2, 2)), [(3, 4)]),
    ("Identity", lambda L: L.nn.Identity(), [(3, 4)]),
    ("Dropout in eval", lambda L: L.nn.Dropout(0.5).eval(), [(3, 4)]),
    (
        "Sequential",
        lambda L: L.nn.Sequential(L.nn.Linear(4, 8), L.nn.Tanh(), L.nn.Linear(8, 2)),
        [(5, 4)],
    ),
    ("RNN", lambda L: L.nn.RNN(3, 4), [(5, 2, 3)]),
    ("RNN relu, 2 layers", lambda L: L.nn.RNN(3, 4, 2, nonlinearity="relu"), [(5, 2, 3)]),
    ("GRU batch first", lambda L: L.nn.GRU(3, 4, batch_first=True), [(2, 5, 3)]),
    ("GRU 2 layers bidirectional", lambda L: L.nn.GRU(3, 4, 2, bidirectional=True), [(5, 2, 3)]),
    ("LSTM", lambda L: L.nn.LSTM(3, 4), [(5, 2, 3)]),
    ("LSTM 2 layers batch first", lambda L: L.nn.LSTM(3, 4, 2, batch_first=True), [(2, 5, 3)]),
    ("LSTM bidirectional unbatched", lambda L: L.nn.LSTM(3, 2, bidirectional=True), [(4, 3)]),
    ("LSTM no bias", lambda L: L.nn.LSTM(3, 2, bias=False), [(4, 1, 3)]),
]


@pytest.mark.parametrize("name, make, shapes", LAYERS, ids=[layer[0] for layer in LAYERS])
def test_layer_matches_pytorch(name, make, shapes):
    ours, theirs = _pair(make)
    _run(ours, theirs, _inputs(shapes))


@pytest.mark.parametrize("name, make, shapes", LAYERS, ids=[layer[0] for layer in LAYERS])
def test_state_dict_keys_and_repr_match_pytorch(name, make, shapes):
    ours, theirs = _pair(make)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert repr(ours) == repr(theirs)
    # and back: PyTorch loads pathgrad's state dict
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})


def test_rnn_initial_states_match_pytorch():
    for make, states in [
        (lambda L: L.nn.GRU(3, 4, 2), [(2, 2, 4)]),
        (lambda L: L.nn.LSTM(3, 4, batch_first=True), [(1, 2, 4), (1, 2, 4)]),
    ]:
        ours, theirs = _pair(make)
        arrays = _inputs([(2, 5, 3) if ours.batch_first else (5, 2, 3)] + states)

        def call(module, x, *hidden):
            return module(x, tuple(hidden) if len(hidden) == 2 else hidden[0])

        _run(ours, theirs, arrays, call)


def test_embedding_matches_pytorch_with_padding():
    ours, theirs = _pair(lambda L: L.nn.Embedding(6, 3, padding_idx=1))
    assert not ours.weight.data[1].any()
    index = [[0, 1, 5], [1, 1, 2]]
    out_ours, out_theirs = ours(pg.tensor(index)), theirs(torch.tensor(index))
    np.testing.assert_allclose(out_ours.detach().numpy(), out_theirs.detach().numpy())
    weights = np.random.default_rng(0).standard_normal(tuple(out_ours.shape))
    (out_ours * pg.tensor(weights)).sum().backward()
    (out_theirs * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy())
    assert not ours.weight.grad.numpy()[1].any()


def test_batchnorm_matches_pytorch_over_steps_then_in_eval():
    for make, shape in [
        (lambda L: L.nn.BatchNorm1d(4), (8, 4)),
        (lambda L: L.nn.BatchNorm1d(3, momentum=None), (5, 3, 6)),
        (lambda L: L.nn.BatchNorm1d(4, affine=False, momentum=0.3), (6, 4)),
    ]:
        ours, theirs = _pair(make)
        for step in range(3):
            for module in (ours, theirs):
                module.zero_grad()
            _run(ours, theirs, _inputs([shape], seed=step))
            for key, value in theirs.state_dict().items():
                np.testing.assert_allclose(
                    ours.state_dict()[key].numpy(), value.numpy(), rtol=1e-12
                )
        ours.eval(), theirs.eval()
        _run(ours, theirs, _inputs([shape], seed=9))


def test_batchnorm_without_running_stats_matches_pytorch_in_eval():
    ours, theirs = _pair(lambda L: L.nn.BatchNorm1d(3, track_running_stats=False))
    ours.eval(), theirs.eval()
    _run(ours, theirs, _inputs([(4, 3)]))
    assert list(ours.state_dict()) == list(theirs.state_dict())


MHA = [
    ("plain", dict(embed_dim=6, num_heads=2), {}, False),
    ("batch first", dict(embed_dim=4, num_heads=1, batch_first=True), {}, False),
    ("kdim vdim", dict(embed_dim=4, num_heads=2, kdim=3, vdim=5), {}, False),
    ("no bias", dict(embed_dim=4, num_heads=2, bias=False), {"average_attn_weights": False}, False),
    ("causal mask", dict(embed_dim=4, num_heads=2), {"causal": True}, False),
    ("key padding", dict(embed_dim=4, num_heads=2), {"padding": True}, False),
    ("unbatched", dict(embed_dim=4, num_heads=2), {}, True),
]


@pytest.mark.parametrize("name, config, options, unbatched", MHA, ids=[m[0] for m in MHA])
def test_multihead_attention_matches_pytorch(name, config, options, unbatched):
    ours, theirs = _pair(lambda L: L.nn.MultiheadAttention(**config))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    embed = config["embed_dim"]
    kdim, vdim = config.get("kdim", embed), config.get("vdim", embed)
    length, source, batch = 3, 4, 2
    if unbatched:
        shapes = [(length, embed), (source, kdim), (source, vdim)]
    elif config.get("batch_first"):
        shapes = [(batch, length, embed), (batch, source, kdim), (batch, source, vdim)]
    else:
        shapes = [(length, batch, embed), (source, batch, kdim), (source, batch, vdim)]

    def call(module, q, k, v):
        L = pg if module is ours else torch
        kwargs = {"average_attn_weights": options.get("average_attn_weights", True)}
        if options.get("causal"):
            kwargs["attn_mask"] = L.tensor(np.triu(np.ones((length, source), dtype=bool), 1))
            kwargs["is_causal"] = True
        if options.get("padding"):
            kwargs["key_padding_mask"] = L.tensor(
                np.array([[0, 0, 1, 1], [0, 0, 0, 1]], dtype=bool)
            )
        return module(q, k, v, **kwargs)

    _run(ours, theirs, _inputs(shapes), call)


LOSSES = [
    ("CrossEntropyLoss", lambda L: L.nn.CrossEntropyLoss(label_smoothing=0.1), "classes"),
    ("NLLLoss", lambda L: L.nn.NLLLoss(reduction="sum"), "classes"),
    ("MSELoss", lambda L: L.nn.MSELoss(), "values"),
    ("L1Loss", lambda L: L.nn.L1Loss(reduction="none"), "values"),
    ("SmoothL1Loss", lambda L: L.nn.SmoothL1Loss(beta=0.5), "values"),
    ("HuberLoss", lambda L: L.nn.HuberLoss(delta=0.5), "values"),
    ("BCEWithLogitsLoss", lambda L: L.nn.BCEWithLogitsLoss(), "probabilities"),
    ("KLDivLoss", lambda L: L.nn.KLDivLoss(reduction="batchmean", log_target=True), "values"),
]


@pytest.mark.parametrize("name, make, kind", LOSSES, ids=[loss[0] for loss in LOSSES])
def test_loss_modules_match_pytorch(name, make, kind):
    ours, theirs = make(pg), make(torch)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 3))
    if kind == "classes":
        target = rng.integers(0, 3, 5)
    elif kind == "probabilities":
        target = rng.uniform(0, 1, (5, 3))
    else:
        target = rng.standard_normal((5, 3))
    xo, xt = pg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lo, lt = ours(xo, pg.tensor(target)), theirs(xt, torch.tensor(target))
    np.testing.assert_allclose(lo.detach().numpy(), lt.detach().numpy(), rtol=1e-12)
    lo.sum().backward(), lt.sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("scale", [1e4, -1e4])
def test_fused_losses_stay_finite_for_huge_logits(dtype, scale):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((4, 5)) * scale).astype(dtype)
    target = [0, 3, 4, 1]
    xo, xt = pg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lo = pg.nn.functional.cross_entropy(xo, pg.tensor(target), label_smoothing=0.1)
    lt = torch.nn.functional.cross_entropy(xt, torch.tensor(target), label_smoothing=0.1)
    lo.backward(), lt.backward()
    assert np.isfinite(lo.item()) and np.isfinite(xo.grad.numpy()).all()
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(lo.item(), lt.item(), rtol=rtol)
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=rtol, atol=1e-7)
    t = rng.uniform(0, 1, (4, 5)).astype(dtype)
    bo = pg.nn.functional.binary_cross_entropy_with_logits(xo, pg.tensor(t))
    bt = torch.nn.functional.binary_cross_entropy_with_logits(xt, torch.tensor(t))
    np.testing.assert_allclose(bo.item(), bt.item(), rtol=rtol)


@pytest.mark.parametrize(
    "name, fill, expected_variance",
    [
        ("xavier_uniform_", lambda L, w: L.nn.init.xavier_uniform_(w), 2 / (300 + 200)),
        ("xavier_normal_", lambda L, w: L.nn.init.xavier_normal_(w, gain=2.0), 4 * 2 / 500),
        ("kaiming_uniform_", lambda L, w: L.nn.init.kaiming_uniform_(w), 2 / 200),
        (
            "kaiming_normal_",
            lambda L, w: L.nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"),
            2 / 300,
        ),
        ("uniform_", lambda L, w: L.nn.init.uniform_(w, -0.5, 0.5), 1 / 12),
        ("normal_", lambda L, w: L.nn.init.normal_(w, 0.0, 0.3), 0.09),
        ("trunc_normal_", lambda L, w: L.nn.init.trunc_normal_(w, 0.0, 1.0, -1.0, 1.0), None),
        ("orthogonal_", lambda L, w: L.nn.init.orthogonal_(w), None),
    ],
)
def test_init_statistics_match_pytorch(name, fill, expected_variance):
    pg.manual_seed(0), torch.manual_seed(0)  # fixed draws: the tolerances are not gambled
    ours, theirs = pg.empty(300, 200, dtype=pg.float64), torch.empty(300, 200, dtype=torch.float64)
    fill(pg, ours), fill(torch, theirs)
    a, b = ours.numpy(), theirs.numpy()
    assert abs(a.mean() - b.mean()) < 0.01
    np.testing.assert_allclose(a.var(), b.var(), rtol=0.05)
    if name in ("xavier_uniform_", "kaiming_uniform_", "uniform_", "trunc_normal_"):  # bounded
        np.testing.assert_allclose(np.abs(a).max(), np.abs(b).max(), rtol=0.02)
    if expected_variance is not None:
        np.testing.assert_allclose(a.var(), expected_variance, rtol=0.05)


def test_default_initialisation_bounds_match_pytorch():
    pg.manual_seed(0), torch.manual_seed(0)
    for make in [lambda L: L.nn.Linear(50, 400), lambda L: L.nn.Conv1d(6, 300, 5, groups=2)]:
        ours, theirs = make(pg), make(torch)
        for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
            a, b = p.numpy(), q.detach().numpy()
            np.testing.assert_allclose(np.abs(a).max(), np.abs(b).max(), rtol=0.02, err_msg=name)
            np.testing.assert_allclose(a.std(), b.std(), rtol=0.1, err_msg=name)


def test_calculate_gain_matches_pytorch():
    for name, param in [
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", 0.2),
        ("linear", None),
        ("selu", None),
        ("sigmoid", None),
        ("conv1d", None),
    ]:
        assert pg.nn.init.calculate_gain(name, param) == pytest.approx(
            torch.nn.init.calculate_gain(name, param)
        )


def test_clip_grad_norm_matches_pytorch():
    for norm_type in (2.0, 1.0, float("inf")):
        ours, theirs = _pair(lambda L: L.nn.Linear(4, 3))
        _run(ours, theirs, _inputs([(5, 4)]))
        total_ours = pg.nn.utils.clip_grad_norm_(ours.parameters(), 0.5, norm_type)
        total_theirs = torch.nn.utils.clip_grad_norm_(theirs.parameters(), 0.5, norm_type)
        np.testing.assert_allclose(total_ours.item(), total_theirs.item(), rtol=1e-12)
        for p, q in zip(ours.parameters(), theirs.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)
        pg.nn.utils.clip_grad_value_(ours.parameters(), 0.01)
        torch.nn.utils.clip_grad_value_(theirs.parameters(), 0.01)
        for p, q in zip(ours.parameters(), theirs.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy())


def test_parameters_to_vector_and_back_match_pytorch():
    ours, theirs = _pair(lambda L: L.nn.Linear(3, 2))
    np.testing.assert_allclose(
        pg.nn.utils.parameters_to_vector(ours.parameters()).detach().numpy(),
        torch.nn.utils.parameters_to_vector(theirs.parameters()).detach().numpy(),
    )
    vector = np.arange(8.0)
    pg.nn.utils.vector_to_parameters(pg.tensor(vector), ours.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(vector), theirs.parameters())
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy())

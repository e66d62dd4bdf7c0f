"""nn.Module's bookkeeping: registration, walking, modes, hooks, conversions, state dicts, and
the errors a mismatched state dict gives; Generator streams."""

import numpy as np
import pytest

import pathgrad as pg
from pathgrad import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh())
        self.head = nn.Linear(4, 2)
        self.scale = nn.Parameter(pg.ones(1))
        self.register_buffer("calls", pg.zeros(1))
        self.register_buffer("scratch", pg.zeros(2), persistent=False)

    def forward(self, x):
        return self.head(self.body(x)) * self.scale


def test_registration_and_walking():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == [
        "scale",
        "body.0.weight",
        "body.0.bias",
        "body.1.weight",
        "body.1.bias",
        "head.weight",
        "head.bias",
    ]
    assert isinstance(net.scale, nn.Parameter) and not isinstance(pg.ones(1), nn.Parameter)
    assert [n for n, _ in net.named_buffers()] == [
        "calls",
        "scratch",
        "body.1.running_mean",
        "body.1.running_var",
        "body.1.num_batches_tracked",
    ]
    assert "scratch" not in net.state_dict() and "calls" in net.state_dict()
    assert [n for n, _ in net.named_modules()] == ["", "body", "body.0", "body.1", "body.2", "head"]
    assert [n for n, _ in net.named_children()] == ["body", "head"]
    assert net.get_submodule("body.1") is net.body[1]
    assert net.get_parameter("head.bias") is net.head.bias
    shared = nn.Linear(2, 2)
    twice = nn.Sequential(shared, shared)
    assert len(list(twice.parameters())) == 2
    del net.head
    assert "head.weight" not in net.state_dict()


def test_parameter_is_a_leaf_sharing_memory():
    data = pg.zeros(3)
    p = nn.Parameter(data)
    assert p.requires_grad and p.is_leaf and repr(p).startswith("Parameter containing:")
    p.data[0] = 5.0
    assert data[0].item() == 5.0
    assert not nn.Parameter(pg.zeros(2), requires_grad=False).requires_grad


def test_modes_hooks_apply_and_zero_grad():
    net = Net()
    net.eval()
    assert not net.training and not net.body[1].training
    net.train()
    assert all(m.training for m in net.modules())
    seen = []
    handle = net.head.register_forward_hook(lambda module, args, out: seen.append(out.shape))
    pre = net.head.register_forward_pre_hook(lambda module, args: (args[0] * 0,))
    out = net(pg.randn(5, 3))
    assert seen == [(5, 2)]
    assert np.allclose(out.detach().numpy(), net.head.bias.detach().numpy())
    handle.remove(), pre.remove()
    net(pg.randn(5, 3)).sum().backward()
    assert seen == [(5, 2)] and net.head.weight.grad is not None
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    counted = []
    net.apply(lambda m: counted.append(type(m).__name__))
    assert counted[-1] == "Net" and counted.count("Linear") == 2


def test_dtype_conversion_keeps_the_parameters():
    net = Net()
    before = list(net.parameters())
    net.double()
    assert all(p.dtype == pg.float64 for p in net.parameters())
    assert all(a is b for a, b in zip(before, net.parameters()))
    assert net.body[1].num_batches_tracked.dtype == pg.int64
    net.to(pg.float32)
    assert net.head.weight.dtype == pg.float32
    with pytest.raises(RuntimeError, match="CPU only"):
        net.to("cuda")


def test_load_state_dict_names_missing_unexpected_and_mis_shaped_keys():
    net = Net()
    state = net.state_dict()
    state.pop("head.bias")
    state["extra.weight"] = pg.zeros(1)
    state["head.weight"] = pg.zeros(3, 4)
    with pytest.raises(RuntimeError) as caught:
        net.load_state_dict(state)
    message = str(caught.value)
    assert 'Missing key(s) in state_dict: "head.bias"' in message
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in message
    assert "size mismatch for head.weight: copying a param with shape (3, 4)" in message
    assert "the shape in current model is (2, 4)" in message
    state["head.weight"] = pg.ones(2, 4)
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["head.bias"] and result.unexpected_keys == ["extra.weight"]
    assert (net.head.weight.numpy() == 1).all()


def test_load_state_dict_bumps_versions_so_stale_graphs_notice():
    layer = nn.Linear(2, 2)
    out = (layer(pg.ones(1, 2, requires_grad=True)) ** 2).sum()  # the product saved the weight
    layer.load_state_dict({k: v + 1 for k, v in layer.state_dict().items()})
    with pytest.raises(RuntimeError, match="changed in place"):
        out.backward()


def test_containers():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    layers.append(nn.ReLU())
    assert len(layers) == 4 and isinstance(layers[-1], nn.ReLU)
    assert len(list(layers.parameters())) == 6
    table = nn.ModuleDict({"a": nn.Linear(1, 1)})
    table["b"] = nn.Tanh()
    assert list(table.keys()) == ["a", "b"]
    params = nn.ParameterList([pg.zeros(2), nn.Parameter(pg.ones(3))])
    assert all(isinstance(p, nn.Parameter) for p in params)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    assert isinstance(model[0:2], nn.Sequential) and len(model[0:2]) == 2
    assert model(pg.randn(4, 2)).shape == (4, 1)


def test_dropout_is_repeatable_with_a_generator_and_scales():
    x = pg.ones(1000)
    first = nn.Dropout(0.3, generator=pg.Generator().manual_seed(5))(x)
    second = nn.Dropout(0.3, generator=pg.Generator().manual_seed(5))(x)
    assert np.array_equal(first.numpy(), second.numpy())
    kept = first.numpy()[first.numpy() > 0]
    assert np.allclose(kept, 1 / 0.7) and 0.6 < kept.size / 1000 < 0.8


def test_generators_repeat_and_stay_independent():
    g = pg.Generator().manual_seed(1)
    a = pg.randn(4, generator=g)
    state = g.get_state()
    b = pg.randn(4, generator=g)
    g.set_state(state)
    assert np.array_equal(pg.randn(4, generator=g).numpy(), b.numpy())
    pg.manual_seed(1)
    pg.rand(10)  # the default stream moving does not move g
    assert np.array_equal(pg.randn(4, generator=pg.Generator().manual_seed(1)).numpy(), a.numpy())
    draws = [
        pg.randint(0, 5, (3,), generator=g),
        pg.randperm(4, generator=g),
        pg.multinomial(pg.ones(3), 2, generator=g),
        pg.bernoulli(pg.full((3,), 0.5), generator=g),
        pg.normal(0.0, 1.0, (2,), generator=g),
        pg.zeros(2).uniform_(generator=g),
    ]
    assert all(d.numel() > 0 for d in draws)
    with pytest.raises(TypeError, match="pathgrad.Generator"):
        pg.randn(2, generator=np.random.default_rng(0))
    pg.nn.init.normal_(pg.empty(3), generator=g)


def test_cross_entropy_refuses_out_of_range_targets_by_value():
    logits = pg.zeros(3, 4)
    for bad in ([0, 4, 1], [0, -1, 2]):
        with pytest.raises(IndexError, match=f"target {bad[1]} is out of bounds for 4 classes"):
            nn.functional.cross_entropy(logits, pg.tensor(bad))
    with pytest.raises(IndexError, match="target 7"):
        nn.functional.nll_loss(logits, pg.tensor([0, 7, 1]))
    with pytest.raises(IndexError, match="index 9 is out of range for 4 rows"):
        nn.functional.embedding(pg.tensor([9]), pg.zeros(4, 2))
    with pytest.raises(ValueError, match="class indices must be integers"):
        nn.functional.cross_entropy(logits, pg.tensor([0.0, 1.0, 2.0]))

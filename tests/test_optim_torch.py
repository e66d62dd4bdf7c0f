"""pg.optim against torch.optim: from the same weights and gradients, every optimiser gives
PyTorch's weights and state over several steps; every schedule PyTorch's learning rates."""

import warnings

import numpy as np
import pytest

import pathgrad as pg

torch = pytest.importorskip("torch")

OPTIMIZERS = [
    ("SGD", lambda L, ps: L.optim.SGD(ps, lr=0.1)),
    ("SGD momentum", lambda L, ps: L.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1)),
    (
        "SGD nesterov",
        lambda L, ps: L.optim.SGD(ps, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01),
    ),
    ("SGD maximize", lambda L, ps: L.optim.SGD(ps, lr=0.1, momentum=0.5, maximize=True)),
    ("Adam", lambda L, ps: L.optim.Adam(ps, lr=0.01)),
    (
        "Adam decay amsgrad",
        lambda L, ps: L.optim.Adam(ps, lr=0.01, weight_decay=0.1, amsgrad=True, betas=(0.8, 0.9)),
    ),
    ("Adam maximize", lambda L, ps: L.optim.Adam(ps, lr=0.01, maximize=True)),
    ("AdamW", lambda L, ps: L.optim.AdamW(ps, lr=0.01)),
    ("AdamW amsgrad", lambda L, ps: L.optim.AdamW(ps, lr=0.02, weight_decay=0.3, amsgrad=True)),
    ("RMSprop", lambda L, ps: L.optim.RMSprop(ps, lr=0.01)),
    (
        "RMSprop centered momentum",
        lambda L, ps: L.optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True, weight_decay=0.1),
    ),
    ("Adagrad", lambda L, ps: L.optim.Adagrad(ps, lr=0.1)),
    (
        "Adagrad decay",
        lambda L, ps: L.optim.Adagrad(
            ps, lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.2
        ),
    ),
    (
        "param groups",
        lambda L, ps: L.optim.SGD(
            [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.01, "momentum": 0.9}], lr=0.1
        ),
    ),
]


def _models():
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    theirs = theirs.double()
    ours = pg.nn.Sequential(pg.nn.Linear(3, 4), pg.nn.Tanh(), pg.nn.Linear(4, 2)).double()
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def _step(model, optimizer, L, seed):
    rng = np.random.default_rng(seed)
    x, y = L.tensor(rng.standard_normal((5, 3))), L.tensor(rng.standard_normal((5, 2)))
    optimizer.zero_grad()
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    optimizer.step()
    return loss.item()


@pytest.mark.parametrize("name, make", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_optimizer_matches_pytorch_over_steps(name, make):
    ours, theirs = _models()
    opt_ours, opt_theirs = make(pg, list(ours.parameters())), make(torch, list(theirs.parameters()))
    for step in range(6):
        loss_ours, loss_theirs = (
            _step(ours, opt_ours, pg, step),
            _step(theirs, opt_theirs, torch, step),
        )
        assert loss_ours == pytest.approx(loss_theirs, rel=1e-12)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-12, atol=1e-15)
    state_ours, state_theirs = opt_ours.state_dict(), opt_theirs.state_dict()
    assert state_ours["param_groups"] == [
        {k: v for k, v in g.items() if k in state_ours["param_groups"][i]}
        for i, g in enumerate(state_theirs["param_groups"])
    ]
    assert set(state_ours["state"]) == set(state_theirs["state"])
    for index, values in state_theirs["state"].items():
        assert set(state_ours["state"][index]) == set(values)
        for key, value in values.items():
            if value is None:
                assert state_ours["state"][index][key] is None
            else:
                np.testing.assert_allclose(
                    state_ours["state"][index][key].numpy(), value.numpy(), rtol=1e-12, atol=1e-15
                )


@pytest.mark.parametrize("name, make", OPTIMIZERS[:8:3], ids=[o[0] for o in OPTIMIZERS[:8:3]])
def test_optimizer_state_dict_resumes_exactly(name, make):
    ours, _ = _models()
    optimizer = make(pg, list(ours.parameters()))
    for step in range(3):
        _step(ours, optimizer, pg, step)
    saved_model, saved_optimizer = ours.state_dict(), optimizer.state_dict()
    saved_model = {k: v.clone() for k, v in saved_model.items()}
    continued = [_step(ours, optimizer, pg, step) for step in range(3, 6)]
    resumed_model, _ = _models()
    resumed_model.load_state_dict(saved_model)
    resumed = make(pg, list(resumed_model.parameters()))
    resumed.load_state_dict(saved_optimizer)
    again = [_step(resumed_model, resumed, pg, step) for step in range(3, 6)]
    assert again == continued


SCHEDULES = [
    ("StepLR", lambda S, o: S.StepLR(o, step_size=3, gamma=0.5)),
    ("MultiStepLR", lambda S, o: S.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3)),
    ("ExponentialLR", lambda S, o: S.ExponentialLR(o, gamma=0.9)),
    ("CosineAnnealingLR", lambda S, o: S.CosineAnnealingLR(o, T_max=7, eta_min=0.01)),
    ("LambdaLR", lambda S, o: S.LambdaLR(o, lambda epoch: 1 / (1 + epoch))),
    ("LinearLR", lambda S, o: S.LinearLR(o, start_factor=0.25, total_iters=6)),
    ("OneCycleLR", lambda S, o: S.OneCycleLR(o, max_lr=1.0, total_steps=20)),
    (
        "OneCycleLR three phases linear",
        lambda S, o: S.OneCycleLR(
            o, max_lr=[0.5, 0.8], total_steps=20, three_phase=True, anneal_strategy="linear"
        ),
    ),
    (
        "SequentialLR",
        lambda S, o: S.SequentialLR(
            o, [S.LinearLR(o, start_factor=0.1, total_iters=4), S.StepLR(o, 3, 0.5)], milestones=[5]
        ),
    ),
    (
        "SequentialLR cosine",
        lambda S, o: S.SequentialLR(
            o, [S.ExponentialLR(o, 0.8), S.CosineAnnealingLR(o, T_max=6)], milestones=[4]
        ),
    ),
]


def _optimizer(L, momentum=True):
    w1, w2 = L.zeros(2, requires_grad=True), L.zeros(3, requires_grad=True)
    groups = [{"params": [w1]}, {"params": [w2], "lr": 0.3}]
    return L.optim.SGD(groups, lr=0.1, momentum=0.9) if momentum else L.optim.Adam(groups, lr=0.1)


@pytest.mark.parametrize("name, make", SCHEDULES, ids=[s[0] for s in SCHEDULES])
@pytest.mark.parametrize("adam", [False, True])
def test_schedule_matches_pytorch(name, make, adam):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt_ours, opt_theirs = _optimizer(pg, not adam), _optimizer(torch, not adam)
        ours = make(pg.optim.lr_scheduler, opt_ours)
        theirs = make(torch.optim.lr_scheduler, opt_theirs)
        for _ in range(19):
            np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12)
            for g, h in zip(opt_ours.param_groups, opt_theirs.param_groups):
                for key in ("lr", "momentum", "betas"):
                    if key in h:
                        np.testing.assert_allclose(g[key], h[key], rtol=1e-12)
            opt_ours.step(), opt_theirs.step()
            ours.step(), theirs.step()


def test_schedule_state_dict_resumes():
    optimizer = _optimizer(pg)
    schedule = pg.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)
    for _ in range(4):
        schedule.step()
    state = schedule.state_dict()
    assert "optimizer" not in state
    expected = []
    for _ in range(3):
        schedule.step()
        expected.append(schedule.get_last_lr())
    fresh_optimizer = _optimizer(pg)
    fresh = pg.optim.lr_scheduler.CosineAnnealingLR(fresh_optimizer, T_max=10)
    fresh.load_state_dict(state)
    for group, lr in zip(fresh_optimizer.param_groups, state["_last_lr"]):
        group["lr"] = lr
    got = []
    for _ in range(3):
        fresh.step()
        got.append(fresh.get_last_lr())
    assert got == expected


def test_reduce_on_plateau_matches_pytorch():
    metrics = [1.0, 0.9, 0.95, 0.96, 0.97, 0.8, 0.85, 0.9, 0.91, 0.92, 0.93, 0.5, 0.6, 0.7]
    for options in [
        dict(patience=2),
        dict(mode="max", factor=0.5, patience=1, cooldown=2),
        dict(threshold_mode="abs", threshold=0.05, patience=0, min_lr=[0.02, 0.1]),
    ]:
        opt_ours, opt_theirs = _optimizer(pg), _optimizer(torch)
        ours = pg.optim.lr_scheduler.ReduceLROnPlateau(opt_ours, **options)
        theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(opt_theirs, **options)
        for metric in metrics:
            ours.step(metric), theirs.step(metric)
            np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12)

"""pg.compile: a traced and replayed step gives, bit for bit, what eager gives; what a plan
cannot replay is refused by name and line."""

import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import pathgrad as pg
from op_cases import ALL_CASES, inputs_for

F = pg.nn.functional


def _arrays(value):
    """Every array in a result (tensors, tuples of them, None), in order, for comparison."""
    if value is None:
        return [None]
    if isinstance(value, pg.Tensor):
        return [value.detach().numpy().copy()]
    return [a for v in value for a in _arrays(v)]


def _same(a, b):
    if a is None or b is None:
        return a is None and b is None
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.id)
def test_every_op_case_replays_as_eager(case):
    """Each op case, traced on one set of inputs and replayed on two others, gives the values
    and gradients eager gives on those: the same NumPy calls, so the same bits."""

    def step(seed_grad, *xs):
        out = case.fn(pg, *xs)
        grads = pg.autograd.grad(out, xs, grad_outputs=seed_grad, allow_unused=True)
        return out, grads

    compiled = pg.compile(step)
    for seed in (0, 1, 2, 0):
        arrays = inputs_for(case, seed)
        if case.values is not None and seed:  # fixed values: scaled, keeping their signs
            arrays = [a * (1 + 0.25 * seed) for a in arrays]
        xs = [pg.tensor(a, dtype=pg.float64, requires_grad=True) for a in arrays]
        out_shape = case.fn(pg, *xs).shape
        seed_grad = pg.tensor(np.random.default_rng(seed).normal(size=out_shape))
        expected = _arrays(step(seed_grad, *xs))
        traces = compiled.cache_info().traces
        got = _arrays(compiled(seed_grad, *xs))
        assert all(_same(a, b) for a, b in zip(expected, got)), f"seed {seed}"
    # the first inputs again: replayed (a new trace is made only for a new output shape, or
    # where a check inside an op branched otherwise: the plans for both are kept)
    assert compiled.cache_info().traces == traces, compiled.cache_info()


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.id)
def test_every_op_case_replays_as_eager_in_float32_with_backward(case):
    """Each op case in float32, its squared outputs summed and backward() run (the implied
    seed, .grad on the inputs), eager run before each call: the compiled step gives eager's
    values, dtypes and gradients. NumPy scalars an op computes stay weak, as eager's: a traced
    0-d stand-in once made nll_loss's weighted mean float64."""

    def step(*xs):
        for x in xs:
            x.grad = None
        out = case.fn(pg, *xs)
        outs = out if isinstance(out, (tuple, list)) else [out]
        tensors = [o for o in outs if isinstance(o, pg.Tensor) and o.requires_grad]
        if tensors:
            sum((o * o).sum() for o in tensors).backward()
        return out

    compiled = pg.compile(step)
    for seed in (0, 1, 2, 0):
        arrays = inputs_for(case, seed)
        if case.values is not None and seed:
            arrays = [a * (1 + 0.25 * seed) for a in arrays]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            xs = [pg.tensor(a, dtype=pg.float32, requires_grad=True) for a in arrays]
            expected = _arrays(step(*xs)) + [_arrays(x.grad)[0] for x in xs]
            xs = [pg.tensor(a, dtype=pg.float32, requires_grad=True) for a in arrays]
            got = _arrays(compiled(*xs)) + [_arrays(x.grad)[0] for x in xs]
        assert all(_same(a, b) for a, b in zip(expected, got)), f"seed {seed}"


def test_a_weighted_nll_loss_replays_one_plan_in_float32():
    """nll_loss's weighted mean divides by the batch's summed weights: computed from the
    targets at each replay, in the loss's dtype, as eager, with one plan for every batch."""

    def weighted_step(layer, optimizer, weight):
        def step(x, y):
            optimizer.zero_grad()
            loss = pg.nn.functional.nll_loss(layer(x).log_softmax(1), y, weight=weight)
            loss.backward()
            optimizer.step()
            return loss

        return step

    losses = []
    for compiled in (False, True):
        pg.manual_seed(0)
        layer = pg.nn.Linear(5, 3)
        optimizer = pg.optim.SGD(layer.parameters(), lr=0.1)
        step = weighted_step(layer, optimizer, pg.tensor([0.3, 2.0, 1.0]))
        run = pg.compile(step) if compiled else step
        batches = np.random.default_rng(1)
        losses.append([])
        for _ in range(6):
            x = pg.tensor(batches.standard_normal((8, 5)).astype(np.float32))
            loss = run(x, pg.tensor(batches.integers(0, 3, 8)))
            losses[-1].append((loss.dtype, loss.numpy().copy()))
    assert all(e[0] == c[0] == pg.float32 for e, c in zip(*losses))
    assert all(np.array_equal(e[1], c[1]) for e, c in zip(*losses))
    assert run.cache_info().traces == 2  # no .grad yet, then one: every batch after replays


def _squared_output_step(model, optimizer):
    """A training step on the mean squared output, with the model and optimiser in its
    closure."""

    def step(x):
        optimizer.zero_grad()
        loss = (model(x) ** 2).mean()
        loss.backward()
        optimizer.step()
        return loss

    return step


def _makemore_model(hidden=64, dropout=0.1):
    nn = pg.nn
    layers = [nn.Embedding(27, 10), nn.Flatten(), nn.Linear(30, hidden), nn.BatchNorm1d(hidden)]
    layers += [nn.Tanh()] + ([nn.Dropout(dropout)] if dropout else []) + [nn.Linear(hidden, 27)]
    return nn.Sequential(*layers)


def _makemore(seed=0):
    pg.manual_seed(seed)
    model = _makemore_model()
    optimizer = pg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    schedule = pg.optim.lr_scheduler.StepLR(optimizer, step_size=200, gamma=0.1)
    return model, optimizer, schedule


def test_makemore_training_compiled_and_eager_agree_after_500_steps():
    """BatchNorm, dropout, cross-entropy, SGD with Nesterov momentum and a step schedule: the
    compiled loop and the eager one from the same seed end with the same parameters,
    buffers and momentum, bit for bit."""
    rng = np.random.default_rng(0)
    batches = [
        (pg.tensor(rng.integers(0, 27, (32, 3))), pg.tensor(rng.integers(0, 27, 32)))
        for _ in range(16)
    ]
    finals = []
    for compiled in (False, True):
        model, optimizer, schedule = _makemore()

        def step(x, y, model=model, optimizer=optimizer):
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss

        run = pg.compile(step) if compiled else step
        losses = []
        for i in range(500):
            losses.append(run(*batches[i % 16]).item())
            schedule.step()
        model.eval()
        evaluation = model(batches[0][0]).detach().numpy().copy()
        state = [s["momentum_buffer"].numpy().copy() for s in optimizer.state.values()]
        finals.append((losses, model.state_dict(), state, evaluation, run))
    (l0, s0, m0, e0, _), (l1, s1, m1, e1, run) = finals
    assert l0 == l1
    assert all(np.array_equal(s0[k].numpy(), s1[k].numpy()) for k in s0)
    assert all(np.array_equal(a, b) for a, b in zip(m0, m1))
    assert np.array_equal(e0, e1)
    info = run.cache_info()
    # the first step (no momentum yet) and the second; the schedule's rates are read live
    assert info.traces == 2 and info.replays == 498, info
    assert "optimisers' state" in info.entries[-1]["reason"]


def test_replay_draws_new_random_numbers_in_eager_order():
    def step(x):
        return F.dropout(x, 0.5) + pg.randn(3)

    results = []
    for fn in (step, pg.compile(step)):
        pg.manual_seed(3)
        results.append([fn(pg.ones(4, 3)).numpy().copy() for _ in range(4)])
    eager, compiled = results
    assert all(np.array_equal(a, b) for a, b in zip(eager, compiled))
    assert not np.array_equal(compiled[1], compiled[2])  # drawn afresh, not frozen


def _refusal(fn, *args):
    compiled = pg.compile(fn)
    with pytest.raises(pg.CompileError) as error:
        compiled(*args)
    return str(error.value)


def _line_of(fragment):
    source = open(__file__).read().splitlines()
    return next(i + 1 for i, line in enumerate(source) if fragment in line)


def test_values_read_into_python_are_refused_naming_the_line():
    x = pg.tensor([1.0, -2.0])

    def item(x):
        return (x * 2).sum().item()  # read: item

    def as_float(x):
        return float(x.sum())  # read: float

    def as_bool(x):
        return bool(x.sum() > 0)  # read: bool

    def branch(x):
        if x.sum() > 0:  # read: if
            return x
        return -x

    def to_numpy(x):
        return (x + 1).numpy()  # read: numpy

    def to_list(x):
        return (x + 1).tolist()  # read: tolist

    for fn, what, marker in (
        (item, ".item()", "# read: item"),
        (as_float, "float()", "# read: float"),
        (as_bool, "bool()", "# read: bool"),
        (branch, "bool()", "# read: if"),
        (to_numpy, ".numpy()", "# read: numpy"),
        (to_list, ".tolist()", "# read: tolist"),
    ):
        message = _refusal(fn, x)
        assert what in message and f"test_compile.py:{_line_of(marker)}" in message, message
        assert "fallback='eager'" in message


def test_fallback_eager_runs_eagerly_with_one_warning():
    calls = []

    def step(x):
        calls.append(1)
        return x * x.sum().item()

    compiled = pg.compile(step, fallback="eager")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = [compiled(pg.tensor([1.0, float(i)])) for i in range(3)]
    assert len(calls) == 3  # eager every call: the value read is fresh each time
    assert [r.tolist() for r in results] == [[1.0, float(i)] * 1 for i in range(3)] or all(
        np.array_equal(r.numpy(), step(pg.tensor([1.0, float(i)])).numpy())
        for i, r in enumerate(results)
    )
    assert sum("runs eagerly" in str(w.message) for w in caught) == 1
    info = compiled.cache_info()
    assert info.traces == 1 and info.eager_calls == 2 and info.entries[0]["eager"]


def test_hooks_retain_grad_and_anomaly_mode_are_refused_by_name():
    x = pg.tensor([1.0, 2.0], requires_grad=True)

    def hooked(x):
        y = x * 2
        y.register_hook(lambda g: g * 3)  # refused: hook
        y.sum().backward()

    def retained(x):
        y = x * 2
        y.retain_grad()  # refused: retain_grad
        y.sum().backward()
        return y

    def anomalous(x):
        with pg.autograd.detect_anomaly():  # refused: anomaly
            (x * 2).sum().backward()

    for fn, what, marker in (
        (hooked, "register_hook", "# refused: hook"),
        (retained, "retain_grad", "# refused: retain_grad"),
        (anomalous, "anomaly mode", "# refused: anomaly"),
    ):
        message = _refusal(fn, x)
        assert what in message and f"test_compile.py:{_line_of(marker)}" in message, message
    with pg.autograd.detect_anomaly():
        assert "anomaly mode" in _refusal(lambda x: x * 2, x)


def test_create_graph_inside_the_step_replays():
    """A Hessian-vector product taken inside the step (grad of grad) replays as eager."""

    def hvp(x, v):
        (g,) = pg.autograd.grad((x**3).sum() + (x * x).prod(), (x,), create_graph=True)
        (h,) = pg.autograd.grad(g, (x,), grad_outputs=v)
        return h

    compiled = pg.compile(hvp)
    for seed in range(3):
        rng = np.random.default_rng(seed)
        x = pg.tensor(rng.normal(size=4), requires_grad=True)
        v = pg.tensor(rng.normal(size=4))
        assert np.array_equal(compiled(x, v).numpy(), hvp(x, v).numpy())


def test_backward_leaves_grad_on_the_arguments_as_eager():
    def step(w, x):
        (w * x).sum().backward()

    compiled = pg.compile(step)
    for i in range(3):
        w = pg.tensor([1.0, 2.0], requires_grad=True)
        x = pg.tensor([3.0, float(i)])
        compiled(w, x)
        assert w.grad.tolist() == [3.0, float(i)]


def test_new_signatures_trace_again_and_the_cache_is_bounded():
    compiled = pg.compile(lambda x, k: x * k, cache_size=2)
    assert compiled(pg.ones(2), 2).tolist() == [2.0, 2.0]
    assert compiled(pg.ones(2), 2).tolist() == [2.0, 2.0]
    assert compiled(pg.ones(3), 2).tolist() == [2.0, 2.0, 2.0]
    assert compiled(pg.ones(3), 5).tolist() == [5.0, 5.0, 5.0]
    info = compiled.cache_info()
    assert (info.traces, info.replays) == (3, 1)
    assert len(info.entries) == 2
    assert [e["reason"] for e in info.entries] == ["new arguments", "new arguments"]
    assert compiled(pg.ones(2), 2).tolist() == [2.0, 2.0]  # dropped from the cache: again
    assert compiled.cache_info().traces == 4


def test_training_flag_is_part_of_the_signature():
    pg.manual_seed(0)
    layer = pg.nn.Sequential(pg.nn.Linear(3, 4), pg.nn.BatchNorm1d(4))
    compiled = pg.compile(lambda x: layer(x))
    x = pg.randn(5, 3)
    train_out = compiled(x).numpy().copy()
    layer.eval()
    eval_out = compiled(x).numpy().copy()
    assert compiled.cache_info().traces == 2
    assert np.array_equal(eval_out, layer(x).detach().numpy())
    assert not np.array_equal(train_out, eval_out)


def test_decorator_forms():
    @pg.compile
    def double(x):
        return x * 2

    @pg.compile(fallback="eager")
    def triple(x):
        return x * 3

    assert double(pg.ones(2)).tolist() == [2.0, 2.0]
    assert triple(pg.ones(2)).tolist() == [3.0, 3.0]
    with pytest.raises(ValueError, match="fallback"):
        pg.compile(lambda x: x, fallback="sometimes")


def test_a_state_change_the_trace_cannot_follow_is_refused():
    """A tensor changed in place that the step reaches only through an object pg.compile does
    not look into would be frozen into the plan: refused, naming what to do."""

    class Hidden:
        pass

    holder = Hidden()
    holder.inner = [pg.zeros(3)]
    box = {"deep": {"deeper": {"deepest": {"deepest still": {"w": holder}}}}}

    def step(x):
        w = box["deep"]["deeper"]["deepest"]["deepest still"]["w"].inner[0]
        w.add_(x)

    with pytest.raises(pg.CompileError, match="Pass the tensor or its module as an argument"):
        pg.compile(step)(pg.ones(3))
    assert type(holder.inner[0]._data) is np.ndarray  # left plain after the refusal
    eager = pg.compile(step, fallback="eager")
    with pytest.warns(UserWarning, match="runs eagerly"):
        eager(pg.ones(3))
    eager(pg.ones(3))
    assert holder.inner[0].tolist() == [3.0, 3.0, 3.0]  # three eager runs in all


def test_modules_and_optimisers_are_found_in_defaults_and_closures():
    pg.manual_seed(0)
    layer = pg.nn.Linear(2, 1)
    optimizer = pg.optim.SGD(layer.parameters(), lr=0.5)

    def step(x, layer=layer):
        optimizer.zero_grad()
        layer(x).sum().backward()
        optimizer.step()

    compiled = pg.compile(step)
    weights = []
    for _ in range(4):
        compiled(pg.ones(1, 2))
        weights.append(layer.weight.detach().numpy().copy())
    assert all(not np.array_equal(a, b) for a, b in zip(weights, weights[1:]))
    assert compiled.cache_info().replays >= 2


def _accumulating_run(compiled):
    pg.manual_seed(0)
    layer = pg.nn.Linear(3, 2)
    optimizer = pg.optim.SGD(layer.parameters(), lr=0.1, momentum=0.5)

    def accumulate(x):  # no zero_grad: gradients add up over two calls, as in eager
        (layer(x) ** 2).mean().backward()

    def update():
        optimizer.step()
        optimizer.zero_grad()

    run = pg.compile(accumulate) if compiled else accumulate
    apply = pg.compile(update) if compiled else update
    pg.manual_seed(1)
    saved = None
    for i in range(12):
        run(pg.randn(4, 3))
        if i % 2:
            apply()
        if i == 5:
            saved = (layer.state_dict(), optimizer.state_dict())
            saved = ({k: v.clone() for k, v in saved[0].items()}, saved[1])
        if i == 8:  # back to step 5's weights and momentum: new state tensors
            layer.load_state_dict(saved[0])
            optimizer.load_state_dict(saved[1])
    return [p.detach().numpy().copy() for p in layer.parameters()]


def test_gradients_accumulate_across_calls_and_state_reloads_are_followed():
    """The plan reads each .grad and each optimiser state tensor through its owner, so a
    gradient accumulated over calls, and state that load_state_dict replaced, are the ones it
    uses."""
    eager, compiled = _accumulating_run(False), _accumulating_run(True)
    assert all(np.array_equal(a, b) for a, b in zip(eager, compiled))


def test_other_threads_run_plain_numpy_while_a_step_is_traced():
    """Tracing patches NumPy's array makers process-wide; another thread's arrays and draws
    stay plain and outside the plan."""
    import threading

    seen = []
    started, release = threading.Event(), threading.Event()

    def other():
        started.wait()
        seen.append(type(np.zeros(2)) is np.ndarray and type(pg.randn(2)._data) is np.ndarray)
        release.set()

    def step(x):
        started.set()
        release.wait(5)
        return x * 2

    thread = threading.Thread(target=other)
    thread.start()
    out = pg.compile(step)(pg.ones(2))
    thread.join()
    assert seen == [True] and out.tolist() == [2.0, 2.0]


def test_a_refused_trace_leaves_the_model_plain_and_usable():
    pg.manual_seed(0)
    layer = pg.nn.Linear(2, 2)

    def step(x):
        loss = layer(x).sum()
        loss.backward()
        return loss.item()  # refused, after backward made the .grad

    with pytest.raises(pg.CompileError):
        pg.compile(step)(pg.ones(1, 2))
    for p in layer.parameters():
        assert type(p._data) is np.ndarray and type(p.grad._data) is np.ndarray
    assert layer(pg.ones(1, 2)).shape == (1, 2)


@pytest.mark.parametrize(
    "name, settings",
    [
        ("SGD", dict(momentum=0.9, weight_decay=0.01)),
        ("Adam", dict(amsgrad=True)),
        ("AdamW", {}),
        ("Adagrad", dict(lr_decay=0.01)),
        ("RMSprop", dict(momentum=0.5, centered=True)),
    ],
)
def test_a_schedule_changing_the_rate_every_step_replays_one_plan(name, settings):
    """pathgrad's optimisers read the learning rate live in the plan, so a cosine schedule
    does not trace every step, and the weights follow eager's bit for bit."""
    results = []
    for compiled in (False, True):
        pg.manual_seed(0)
        layer = pg.nn.Linear(4, 3)
        optimizer = getattr(pg.optim, name)(layer.parameters(), lr=0.05, **settings)
        schedule = pg.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=30)
        step = _squared_output_step(layer, optimizer)
        run = pg.compile(step) if compiled else step
        pg.manual_seed(1)
        losses = []
        for _ in range(30):
            losses.append(run(pg.randn(5, 4)).item())
            schedule.step()
        results.append((losses, [p.detach().numpy().copy() for p in layer.parameters()]))
    (l0, w0), (l1, w1) = results
    assert l0 == l1 and all(np.array_equal(a, b) for a, b in zip(w0, w1))
    assert run.cache_info().traces == 2


def test_a_users_optimizer_keeps_its_rate_in_the_signature():
    """An optimiser pathgrad did not write may use the rate in ways a plan cannot follow, so
    a new rate traces again rather than being frozen."""

    class Plain(pg.optim.Optimizer):
        def __init__(self, params, lr):
            super().__init__(params, dict(lr=lr))

        def step(self):
            for group in self.param_groups:
                scale = np.float32(group["lr"])  # a conversion a plan could not follow
                for p in group["params"]:
                    p._data -= scale * p.grad._data

    pg.manual_seed(0)
    layer = pg.nn.Linear(2, 1)
    optimizer = Plain(layer.parameters(), lr=0.1)

    @pg.compile
    def step(x):
        optimizer.zero_grad()
        layer(x).sum().backward()
        optimizer.step()

    for rate in (0.1, 0.1, 0.05, 0.05):
        optimizer.param_groups[0]["lr"] = rate
        before = layer.weight.detach().numpy().copy()
        step(pg.ones(1, 2))
        assert np.allclose(before - layer.weight.detach().numpy(), rate)
    assert "optimisers' settings" in step.cache_info().entries[-1]["reason"]


def test_gradient_clipping_inside_a_step_replays():
    """clip_grad_norm_'s scale is computed in NumPy, so a clipped step (with BatchNorm's
    running statistics changed before it) replays instead of tracing every call."""
    results = []
    for compiled in (False, True):
        pg.manual_seed(0)
        model = pg.nn.Sequential(pg.nn.Linear(3, 8), pg.nn.BatchNorm1d(8), pg.nn.Linear(8, 1))
        optimizer = pg.optim.SGD(model.parameters(), lr=0.5)

        def step(x, model=model, optimizer=optimizer):
            optimizer.zero_grad()
            loss = (model(x) ** 2).mean()
            loss.backward()
            norm = pg.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            return loss, norm

        run = pg.compile(step) if compiled else step
        pg.manual_seed(1)
        outs = [tuple(t.item() for t in run(pg.randn(6, 3) * 3)) for _ in range(12)]
        results.append((outs, [p.detach().numpy().copy() for p in model.parameters()]))
    (o0, w0), (o1, w1) = results
    assert o0 == o1 and all(np.array_equal(a, b) for a, b in zip(w0, w1))
    assert any(norm > 1.0 for _, norm in o0) and any(norm < 1.0 for _, norm in o0)
    assert run.cache_info().traces == 2


def test_batch_norm_cumulative_average_replays():
    """BatchNorm1d(momentum=None) averages over the batches seen, reading the count it keeps:
    the plan counts on, as eager does."""
    results = []
    for compiled in (False, True):
        pg.manual_seed(0)
        norm = pg.nn.BatchNorm1d(4, momentum=None)
        run = pg.compile(lambda x, norm=norm: norm(x)) if compiled else norm
        pg.manual_seed(1)
        for _ in range(6):
            run(pg.randn(5, 4))
        results.append([b.numpy().copy() for b in norm.buffers()])
    assert all(np.array_equal(a, b) for a, b in zip(*results))


def test_a_step_that_switches_a_module_to_eval_leaves_it_so():
    pg.manual_seed(0)
    model = pg.nn.Sequential(pg.nn.Linear(2, 3), pg.nn.BatchNorm1d(3))

    @pg.compile
    def evaluate(x):
        model.eval()
        with pg.no_grad():
            return model(x)

    for _ in range(3):
        model.train()
        out = evaluate(pg.ones(4, 2))
        assert not model.training and not model[1].training
    assert np.array_equal(out.numpy(), model(pg.ones(4, 2)).detach().numpy())
    assert evaluate.cache_info().replays == 2


def test_a_signature_that_changes_every_call_warns():
    compiled = pg.compile(lambda x, k: x * k, cache_size=2)
    with pytest.warns(UserWarning, match="traced 4 times"):
        for k in range(5):
            compiled(pg.ones(2), k)


def test_a_backward_on_a_replayed_result_says_why_it_cannot():
    pg.manual_seed(0)
    layer = pg.nn.Linear(2, 1)
    forward = pg.compile(lambda x: layer(x).sum())
    for _ in range(2):  # traced (no .grad yet, then a .grad): eager runs, with graphs
        forward(pg.ones(1, 2)).backward()
    with pytest.raises(RuntimeError, match="compiled with pg.compile"):
        forward(pg.ones(1, 2)).backward()


def test_torch_compile_arguments_are_taken():
    def f(x):
        return x + 1

    assert pg.compile(f, disable=True) is f
    compiled = pg.compile(f, fullgraph=True, dynamic=False, mode="max-autotune", backend="eager")
    assert compiled(pg.ones(2)).tolist() == [2.0, 2.0]
    decorated = pg.compile(mode="reduce-overhead")(f)
    assert decorated(pg.ones(2)).tolist() == [2.0, 2.0]


def test_a_model_and_optimiser_passed_as_arguments_are_followed():
    """train_step(model, optimizer, x, y): what the arguments reach is state, as what the
    closure reaches is."""

    def train_step(model, optimizer, x, y):
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    results = []
    for compiled in (False, True):
        pg.manual_seed(0)
        model = pg.nn.Sequential(pg.nn.Linear(3, 4), pg.nn.Tanh(), pg.nn.Linear(4, 1))
        optimizer = pg.optim.Adam(model.parameters(), lr=0.01)
        run = pg.compile(train_step) if compiled else train_step
        pg.manual_seed(1)
        losses = [run(model, optimizer, pg.randn(5, 3), pg.randn(5, 1)).item() for _ in range(8)]
        results.append((losses, [p.detach().numpy().copy() for p in model.parameters()]))
    (l0, w0), (l1, w1) = results
    assert l0 == l1 and all(np.array_equal(a, b) for a, b in zip(w0, w1))
    assert run.cache_info().replays == 6


def test_the_lectures_manual_loop_compiles():
    """makemore's loop: parameters in a list, no module or optimiser, p.data += -lr * p.grad;
    the parameters (leaves that require grad) the closure reaches are the state."""
    results = []
    for compiled in (False, True):
        g = pg.Generator().manual_seed(2147483647)
        C, W1 = pg.randn((27, 10), generator=g), pg.randn((30, 64), generator=g)
        b1 = pg.randn(64, generator=g)
        W2, b2 = pg.randn((64, 27), generator=g), pg.randn(27, generator=g)
        parameters = [C, W1, b1, W2, b2]
        for p in parameters:
            p.requires_grad = True

        def step(Xb, Yb, lr, C=C, W1=W1, b1=b1, W2=W2, b2=b2, parameters=parameters):
            h = pg.tanh(C[Xb].view(-1, 30) @ W1 + b1)
            loss = F.cross_entropy(h @ W2 + b2, Yb)
            for p in parameters:
                p.grad = None
            loss.backward()
            for p in parameters:
                p.data += -lr * p.grad
            return loss

        run = pg.compile(step) if compiled else step
        rng = np.random.default_rng(0)
        losses = []
        for i in range(40):
            Xb, Yb = pg.tensor(rng.integers(0, 27, (32, 3))), pg.tensor(rng.integers(0, 27, 32))
            losses.append(run(Xb, Yb, 0.1 if i < 20 else 0.01).item())
        results.append((losses, [p.detach().numpy().copy() for p in parameters]))
    (l0, w0), (l1, w1) = results
    assert l0 == l1 and all(np.array_equal(a, b) for a, b in zip(w0, w1))
    assert run.cache_info().replays == 37  # traced: no .grad, a .grad, the second rate


def test_a_scheduler_stepped_inside_the_step_is_refused():
    pg.manual_seed(0)
    layer = pg.nn.Linear(2, 1)
    optimizer = pg.optim.SGD(layer.parameters(), lr=0.1)
    schedule = pg.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)

    def step(x):
        optimizer.zero_grad()
        layer(x).sum().backward()
        optimizer.step()
        schedule.step()  # refused: a replay would not set the rate again

    with pytest.raises(pg.CompileError, match="setting an optimiser's learning rate"):
        pg.compile(step)(pg.ones(1, 2))
    rate = optimizer.param_groups[0]["lr"]
    assert rate == 0.05 and type(rate) is float


def test_optimiser_state_made_by_a_replay_is_eager_s():
    """Clearing the optimiser's state brings back the first step's signature: its plan,
    replayed, makes the momentum and step count anew, as eager's first step does."""
    results = []
    for compiled in (False, True):
        pg.manual_seed(0)
        layer = pg.nn.Linear(3, 2)
        optimizer = pg.optim.Adam(layer.parameters(), lr=0.01)

        def step(x, layer=layer, optimizer=optimizer):
            optimizer.zero_grad()
            (layer(x) ** 2).mean().backward()
            optimizer.step()

        run = pg.compile(step) if compiled else step
        pg.manual_seed(1)
        for i in range(9):
            if i % 3 == 0:
                optimizer.state.clear()
            run(pg.randn(4, 3))
        state = [v.numpy().copy() for s in optimizer.state.values() for v in s.values()]
        results.append([p.detach().numpy().copy() for p in layer.parameters()] + state)
    assert all(np.array_equal(a, b) for a, b in zip(*results))
    # traced: no state and no .grad; state and a .grad; no state (cleared) and a .grad, whose
    # plan, which makes the state, is then replayed at the third clearing
    assert run.cache_info().traces == 3 and run.cache_info().replays == 6


def _mlp_step(batch):
    """The benchmark's makemore MLP step (pg.nn, cross-entropy, plain SGD) over a cycle of
    batches."""
    pg.manual_seed(0)
    model = _makemore_model(hidden=200, dropout=0)
    optimizer = pg.optim.SGD(model.parameters(), lr=0.1)
    rng = np.random.default_rng(0)
    batches = [
        (pg.tensor(rng.integers(0, 27, (batch, 3))), pg.tensor(rng.integers(0, 27, batch)))
        for _ in range(4)
    ]

    def step(x, y):
        loss = pg.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    return step, batches, model


@pytest.mark.parametrize("batch", [32, 256])
def test_a_compiled_step_peaks_no_higher_than_eager(batch):
    """Issue 17's memory line, at the benchmark's batch and a larger one: the arena kept
    between replays, the plans (the first step's too) and the step's own arrays together
    reach no higher than eager's step, whose graph and arrays come and go."""
    import gc
    import tracemalloc

    peaks = []
    for compiled in (False, True):
        step, batches, _ = _mlp_step(batch)
        run = pg.compile(step) if compiled else step
        tracemalloc.start()
        try:
            for i in range(5):
                run(*batches[i % 4])
            gc.collect()  # the trace's dropped objects sit in Python's free lists until then
            tracemalloc.reset_peak()
            for i in range(100):  # eager's version histories fill (8 changes kept a tensor)
                run(*batches[i % 4])
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    eager, compiled = peaks
    assert compiled <= eager, f"compiled peak {compiled} bytes, eager {eager}"


def test_a_replayed_grad_owns_its_memory():
    """A .grad a replay leaves is new memory each time, shared with no other .grad and no
    array the plan keeps: a user who keeps last step's gradient keeps its values."""
    step, batches, model = _mlp_step(8)
    run = pg.compile(step)
    for i in range(3):
        run(*batches[i % 4])
    kept = [p.grad for p in model.parameters()]
    values = [g.numpy().copy() for g in kept]
    run(*batches[3])
    fresh = [p.grad for p in model.parameters()]
    for old, saved, new in zip(kept, values, fresh):
        assert np.array_equal(old.numpy(), saved)
        assert not np.shares_memory(old.numpy(), new.numpy())
    arrays = [g.numpy() for g in fresh]
    for i, a in enumerate(arrays):
        assert a.flags.writeable and a.flags.owndata
        for b in arrays[i + 1 :]:
            assert not np.shares_memory(a, b)


def test_results_written_over_their_inputs_replay_as_eager():
    """Elementwise chains whose results overwrite the inputs they read last (in the arena),
    with a transposed operand and a reduction between: values as eager's at every replay."""

    def f(x, w):
        h = (x @ w).tanh()
        g = (h * 2.0 + 1.0).exp() - h.T.T
        out = (g / (1.0 + g)).sum(dim=0) * (h - h.mean(dim=0))
        return out.sum(), out

    compiled = pg.compile(f)
    rng = np.random.default_rng(3)
    for _ in range(4):
        x, w = rng.standard_normal((5, 4)), rng.standard_normal((4, 6))
        expected = f(pg.tensor(x), pg.tensor(w))
        got = compiled(pg.tensor(x), pg.tensor(w))
        for e, g in zip(expected, got):
            assert np.array_equal(e.numpy(), g.numpy())


def test_a_grad_made_through_a_view_is_copied_out_of_the_arena():
    """A gradient that reaches a leaf as a view of a result the plan keeps (w's, through the
    reshape's rule) is copied, as eager copies it: the next replay, which writes that result
    again, leaves the .grad a user kept as it was."""
    w = pg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)

    def step(x):
        w.grad = None
        ((x * w.reshape(6)).exp() * 0.5).sum().backward()

    compiled = pg.compile(step)
    rng = np.random.default_rng(0)
    for _ in range(3):
        compiled(pg.tensor(rng.standard_normal(6)))
    kept, values = w.grad, w.grad.numpy().copy()
    compiled(pg.tensor(rng.standard_normal(6)))
    assert np.array_equal(kept.numpy(), values)
    assert not np.shares_memory(kept.numpy(), w.grad.numpy())
    x = pg.tensor(rng.standard_normal(6))
    compiled(x)
    got = w.grad.numpy().copy()
    step(x)
    assert np.array_equal(got, w.grad.numpy())


_UNARY = [
    lambda t: t.tanh(),
    lambda t: (t * 0.5).exp(),
    lambda t: t * t,
    lambda t: t - t.mean(dim=0),
    lambda t: t.T.T * 2.0 + 1.0,
    lambda t: (t.T * 3.0).T,
    lambda t: t.reshape(-1).reshape(t.shape) / 2.0,
    lambda t: t.sigmoid() * t,
    lambda t: t.relu() + t.abs(),
    lambda t: t.softmax(dim=-1),
]


@settings(max_examples=40, deadline=None)
@given(
    program=st.lists(
        st.tuples(st.integers(0, len(_UNARY) - 1), st.integers(0, 3), st.integers(0, 2)),
        min_size=1,
        max_size=8,
    ),
    seed=st.integers(0, 2**16),
)
def test_random_programs_replay_as_eager(program, seed):
    """Random chains of elementwise ops, transposes, reductions, matmuls and broadcast biases,
    where results overwrite the inputs they read last and share the arena's memory: values and
    gradients as eager's, bit for bit, at every replay."""
    rng = np.random.default_rng(seed)
    w = pg.tensor(rng.standard_normal((4, 4)), requires_grad=True)
    bias = pg.tensor(rng.standard_normal(4), requires_grad=True)

    def step(x):
        w.grad = bias.grad = None
        values = [x]
        for unary, source, combine in program:
            t = _UNARY[unary](values[source % len(values)])
            if combine == 1:
                t = t @ w
            elif combine == 2:
                t = t + bias
            values.append(t)
        loss = sum(v.sum() for v in values[1:]) + (w * bias).sum()  # both always get a .grad
        loss.backward()
        return values[-1]

    compiled = pg.compile(step)
    for _ in range(4):
        x = rng.standard_normal((3, 4))
        expected = step(pg.tensor(x)).numpy().copy()
        grads = [w.grad.numpy().copy(), bias.grad.numpy().copy()]
        got = compiled(pg.tensor(x)).numpy()
        assert np.array_equal(expected, got)
        assert np.array_equal(grads[0], w.grad.numpy())
        assert np.array_equal(grads[1], bias.grad.numpy())
    assert compiled.cache_info().replays == 3  # eager's call before each leaves the .grads


def test_the_first_call_lets_intermediates_go_as_eager_does():
    """The trace holds its slots' arrays weakly, so a deep step's first (traced) call peaks
    near eager's first call rather than holding every intermediate of the step at once (6.2x
    eager's for this model when the trace held them all; 1.9x measured now)."""
    import gc
    import tracemalloc

    def first_call_peak(compiled):
        pg.manual_seed(0)
        layers = []
        for _ in range(12):
            layers += [pg.nn.Linear(256, 256), pg.nn.Tanh()]
        model = pg.nn.Sequential(*layers)
        step = _squared_output_step(model, pg.optim.SGD(model.parameters(), lr=0.01))
        run = pg.compile(step) if compiled else step
        x = pg.randn(128, 256)
        gc.collect()
        tracemalloc.start()
        try:
            run(x)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    eager, compiled = first_call_peak(False), first_call_peak(True)
    assert compiled <= 3 * eager, f"first compiled call {compiled} bytes, eager {eager}"


@settings(max_examples=300, deadline=None)
@given(
    shape=st.lists(st.integers(0, 3), max_size=3),
    transpose=st.booleans(),
    lead=st.lists(st.integers(0, 3), max_size=2),
    sizes=st.lists(st.integers(0, 3), max_size=3),
)
def test_broadcast_strides_worked_out_as_numpy_does(shape, transpose, lead, sizes):
    """The strides a view of a slot would have under np.broadcast_to, worked out from the
    slot's layout alone (its array may be gone): NumPy's own, or None where it refuses."""
    from pathgrad.compiled.tracing import _broadcast_strides

    a = np.zeros(shape)
    if transpose:
        a = a.T
    # each axis's target size: one drawn (broadcast, equal, refused or 0), else its own
    target = tuple(lead) + tuple(
        sizes[i] if i < len(sizes) else dim for i, dim in enumerate(a.shape)
    )
    try:
        expected = np.broadcast_to(a, target).strides
    except ValueError:
        expected = None
    assert _broadcast_strides(a.shape, a.strides, target) == expected


def test_a_view_is_recorded_only_from_a_slot_holding_its_bytes():
    """The gradient of an empty slice is the seed broadcast to no elements; a later view of
    the seed's memory (made by NumPy without a call) must not be recorded as a view of that
    empty slot, which holds none of its bytes: it read memory past an empty array at replay
    and gave wrong gradients once eager ran between replays."""
    w = pg.tensor(np.random.default_rng(1).standard_normal((2, 2)), requires_grad=True)

    def step(x):
        w.grad = None
        v = x * w
        b = v[2:].exp()
        ((v * v).sum() + (b * b).sum()).backward()

    compiled = pg.compile(step)
    rng = np.random.default_rng(2)
    for _ in range(4):
        x = rng.standard_normal((2, 2))
        step(pg.tensor(x))
        expected = w.grad.numpy().copy()
        compiled(pg.tensor(x))
        assert np.array_equal(w.grad.numpy(), expected)
        assert np.allclose(expected, 2 * x * x * w.numpy())


_VIEWS = [
    lambda t: t[1:, ::2].exp(),
    lambda t: t.T.contiguous() * 2.0,
    lambda t: t.unfold(0, 2, 1).sum(-1),
    lambda t: t.clone().mul_(0.5).add_(1.0),
    lambda t: t.diagonal().unsqueeze(0) + t[:1, :1],
    lambda t: t.flip(0).cumsum(0),
    lambda t: t.reshape(-1)[::3].sum() + t,
    lambda t: pg.where(t > 0, t, t * 0.1),
    lambda t: t.masked_fill(t < -1, 0.0),
    lambda t: t[[0, 0, 1]].tanh(),
    lambda t: t.narrow(1, 0, 2).sigmoid(),
    lambda t: t.expand(2, *t.shape).mean(0),
    lambda t: t.transpose(0, -1).softmax(-1),
    lambda t: t @ t.T,
    lambda t: t[t.shape[0] :],
]


@settings(max_examples=60, deadline=None)
@given(
    program=st.lists(
        st.tuples(st.integers(0, len(_VIEWS) - 1), st.integers(0, 3)), min_size=1, max_size=6
    ),
    seed=st.integers(0, 2**16),
)
def test_random_programs_of_views_replay_as_eager(program, seed):
    """Random chains of slices, diagonals, flips, unfolds, fancy indexing, expands, in-place
    changes of clones and empty slices, with eager run before each replay: values and
    gradients as eager's, bit for bit (programs eager refuses are skipped)."""
    rng = np.random.default_rng(seed)
    w = pg.tensor(rng.standard_normal((4, 4)), requires_grad=True)

    def step(x):
        w.grad = None
        values = [x * w]
        for view, source in program:
            values.append(_VIEWS[view](values[source % len(values)]))
        sum((v * v).sum() for v in values).backward()
        return values[-1]

    try:
        step(pg.tensor(rng.standard_normal((4, 4))))
    except (ValueError, IndexError, RuntimeError):  # pathgrad's shape errors are ValueErrors
        assume(False)
    compiled = pg.compile(step)
    for _ in range(3):
        x = rng.standard_normal((4, 4))
        expected = step(pg.tensor(x)).numpy().copy()
        grad = w.grad.numpy().copy()
        assert np.array_equal(compiled(pg.tensor(x)).numpy(), expected)
        assert np.array_equal(w.grad.numpy(), grad)


XTR = pg.tensor(np.arange(100.0).reshape(50, 2))  # a dataset in the globals, as the lectures'


def test_a_dataset_the_step_indexes_is_read_at_every_replay():
    """The lectures' loop indexes a global dataset with a random batch drawn in the step: the
    dataset is read afresh at each replay (it was frozen, with its first batch, as a plain
    array indexed by a traced one), and a new shape given to it is traced again."""
    w = pg.tensor(np.ones(2), requires_grad=True)

    def step():
        ix = pg.randint(0, XTR.shape[0], (4,))
        return (XTR[ix] @ w).sum(), ix

    compiled = pg.compile(step)
    original = XTR.data
    try:
        for call in range(6):
            if call == 3:
                XTR.data = pg.tensor(np.arange(400.0).reshape(200, 2))
            loss, ix = compiled()
            assert float(loss) == XTR.numpy()[ix.numpy()].sum()
            assert ix.numpy().max() < XTR.shape[0]
    finally:
        XTR.data = original
    info = compiled.cache_info()
    assert info.traces == 2 and "shape of a tensor the step reads" in info.entries[-1]["reason"]


def test_a_draw_from_numpys_global_random_state_is_refused():
    """np.random's module-level draws cannot be redrawn at replay (pathgrad's generators are):
    refused with the line, not replayed as the traced call's numbers; NumPy is restored."""
    original = np.random.randn

    def step(x):
        return x * pg.tensor(np.random.randn(3))

    with pytest.raises(pg.CompileError, match=r"np\.random\.randn\(\) at test_compile\.py"):
        pg.compile(step)(pg.ones(3))
    assert np.random.randn is original
    with pytest.warns(UserWarning, match="runs eagerly"):
        pg.compile(step, fallback="eager")(pg.ones(3))

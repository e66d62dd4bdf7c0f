"""Small behaviours of the tensor API, side by side with PyTorch: what each returns, in what
shape and dtype, and what shares memory."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pathgrad as pg


def behaviours(L):
    out = {}
    a = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (a * a).sum()
    y.backward()
    a.grad.zero_()
    out["grad zero_"] = a.grad.tolist()
    b = a * 2
    out["nonleaf grad"] = b.grad
    t2 = L.tensor(a.detach().numpy())
    out["tensor from tensor data requires_grad"] = t2.requires_grad
    c = a.detach()
    c[0] = 10.0
    out["detach shares memory"] = a.tolist()[0]
    with L.no_grad():
        a -= 1.0
    out["after no_grad update"] = a.tolist()
    out["is_leaf"] = (a.is_leaf, b.is_leaf)
    d = L.ones(2, 3)
    out["sum dims"] = d.sum(dim=(0, 1)).item()
    out["mean keepdim shape"] = tuple(d.mean(1, keepdim=True).shape)
    out["max dim"] = [x.tolist() for x in L.tensor([[1.0, 5.0], [7.0, 2.0]]).max(dim=1)]
    out["std"] = round(L.tensor([1.0, 2.0, 4.0]).std().item(), 6)
    out["expand shape"] = tuple(L.tensor([[1.0], [2.0]]).expand(2, 3).shape)
    out["repeat"] = L.tensor([1.0, 2.0]).repeat(2, 2).tolist()
    out["split"] = [x.tolist() for x in L.arange(5.0).split(2)]
    out["chunk"] = [x.tolist() for x in L.arange(5.0).chunk(2)]
    out["squeeze"] = tuple(L.zeros(1, 2, 1).squeeze().shape)
    out["argmax keepdim"] = L.tensor([[1.0, 3.0], [4.0, 0.0]]).argmax(dim=1, keepdim=True).tolist()
    out["int tensor dtype"] = str(L.tensor([1, 2]).dtype).split(".")[-1]
    out["float tensor dtype"] = str(L.tensor([1.0]).dtype).split(".")[-1]
    out["arange int"] = str(L.arange(3).dtype).split(".")[-1]
    out["linspace"] = L.linspace(0, 1, 3).tolist()
    out["eye"] = L.eye(2).tolist()
    drawn = L.randint(3, (200,))  # PyTorch's randint(high, size)
    out["randint(high, size)"] = [tuple(drawn.shape), sorted(set(drawn.tolist()))]
    out["arange down"] = L.arange(3, 0, -1).tolist()
    spread = L.tensor([[1.0, 2.0, 4.0], [0.5, -1.0, 3.0]], dtype=L.float64)
    out["var and std, older positional form"] = [
        np.round(values.tolist(), 12).tolist()  # the last bit depends on the order of sums
        for values in (
            spread.std(0, True),
            spread.var(1, False, True),
            spread.var(False),
            L.std(spread, 1, True),
        )
    ]
    out["flip(0, 1)"] = spread.flip(0, 1).tolist()
    out["dtype names"] = [
        str(getattr(L, name)).split(".")[-1]
        for name in ("bool", "float", "int", "half", "short", "uint8", "int8", "int16", "long")
    ]
    shared = np.array([1.0, 2.0])
    from_numpy = L.from_numpy(shared)
    shared[0] = 5.0
    out["from_numpy shares memory"] = [from_numpy.tolist(), str(from_numpy.dtype).split(".")[-1]]
    out["full"] = L.full((2,), 7.0).tolist()
    out["gather"] = (
        L.tensor([[1.0, 2.0], [3.0, 4.0]]).gather(1, L.tensor([[0, 0], [1, 0]])).tolist()
    )
    out["index_select"] = L.tensor([[1.0, 2.0], [3.0, 4.0]]).index_select(0, L.tensor([1])).tolist()
    out["where scalar"] = L.where(L.tensor([True, False]), L.tensor([1.0, 2.0]), 0.0).tolist()
    out["clamp min only"] = L.tensor([-1.0, 2.0]).clamp(min=0.0).tolist()
    out["flatten"] = tuple(L.zeros(2, 3, 4).flatten(1).shape)
    out["permute"] = tuple(L.zeros(2, 3, 4).permute(2, 0, 1).shape)
    out["transpose"] = tuple(L.zeros(2, 3, 4).transpose(0, 2).shape)
    out["unsqueeze"] = tuple(L.zeros(2, 3).unsqueeze(-1).shape)
    out["cat"] = L.cat([L.ones(1, 2), L.zeros(1, 2)], 0).tolist()
    out["stack"] = tuple(L.stack([L.ones(2), L.zeros(2)], 1).shape)
    out["norm dim"] = round(L.tensor([[3.0, 4.0]]).norm(dim=1).item(), 6)
    out["logsumexp"] = round(L.tensor([1.0, 2.0]).logsumexp(0).item(), 6)
    out["one_hot"] = L.one_hot(L.tensor([0, 2]), 3).tolist()
    out["bool cmp dtype"] = str((L.tensor([1.0]) > 0).dtype).split(".")[-1]
    out["mT"] = tuple(L.zeros(2, 3, 4).mT.shape)
    out["size dim"] = L.zeros(2, 3).size(1)
    out["numel"] = L.zeros(2, 3).numel()
    v = L.tensor([1.0, -2.0, 4.0], requires_grad=True)
    y = v.where(v > 0, v * 3).square().sum() + v.dot(v) + v.outer(v).sum() + v.sign().sum()
    y = y + v.narrow(0, 1, 2).sum() + v.abs().rsqrt().sum()
    y.backward()
    out["methods: where, square, dot, outer, sign, narrow, rsqrt"] = [y.item(), v.grad.tolist()]
    z = L.zeros(2, 3, device="cpu")
    out["device"] = [str(z.device), str(L.tensor([1.0], device="cpu").device)]
    out["to forms"] = [
        str(z.to("cpu", L.float64).dtype).split(".")[-1],
        str(z.to(device="cpu", dtype=L.float64).dtype).split(".")[-1],
        str(z.to(L.ones(1, dtype=L.float64)).dtype).split(".")[-1],
        z.detach().cpu().numpy().shape,
    ]
    out["methods: isnan, isfinite"] = [v.isnan().tolist(), (v / 0.0).isfinite().tolist()]
    w = L.tensor([7.0, -7.0, 5.5])
    out["// and %"] = [
        (w // 2).tolist(),
        (w % 3).tolist(),
        (5 // L.tensor([2.0])).tolist(),
        (L.tensor([7, -7]) // 2).tolist(),
        (L.tensor([7, -7]) % 3).tolist(),
        str((L.tensor([7, -7]) // 2).dtype).split(".")[-1],
        w.remainder(2.0).tolist(),
        w.floor_divide(2.0).tolist(),
    ]
    out["format of 0-d"] = [f"{L.tensor(3.14159):.2f}", f"{L.tensor(7):>4}", f"{L.tensor(2.5)}"]
    out["rand of an integer dtype"] = _raises(lambda: L.rand_like(L.tensor([1, 2])))
    out["format spec of 1-d"] = _raises(lambda: f"{L.tensor([1.5]):.2f}")
    return out


def _raises(fn):
    try:
        fn()
    except (TypeError, RuntimeError, NotImplementedError):
        return "raises"
    return "runs"


@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")
@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_tensor_api_behaves_as_pytorch():
    pytest.importorskip("torch")
    from op_cases import torch_namespace

    ours, theirs = behaviours(pg), behaviours(torch_namespace())
    differing = {k: (ours[k], theirs[k]) for k in ours if str(ours[k]) != str(theirs[k])}
    assert not differing


def set_requires_grad(t, value):
    t.requires_grad = value


# changes of requires_grad PyTorch refuses: on integer data, on a computed tensor, not a bool
BAD_REQUIRES_GRAD = {
    "integer data": lambda L: (set_requires_grad, L.tensor([1, 2]), True),
    "a non-leaf": lambda L: (set_requires_grad, L.ones(2, requires_grad=True) * 2, False),
    "not a bool": lambda L: (set_requires_grad, L.ones(2), 1),
    "not a bool, in-place form": lambda L: (lambda t, v: t.requires_grad_(v), L.ones(2), 1),
    "not a bool, at creation": lambda L: (lambda t, v: L.tensor([1.0], requires_grad=v), None, 1),
}


@pytest.mark.parametrize("case", BAD_REQUIRES_GRAD)
def test_a_requires_grad_change_pytorch_refuses_is_refused(case):
    torch = pytest.importorskip("torch")
    for L in (pg, torch):
        action, t, value = BAD_REQUIRES_GRAD[case](L)
        with pytest.raises((RuntimeError, TypeError)):
            action(t, value)


# factory arguments PyTorch refuses: steps, sizes and ranges that describe no tensor
BAD_FACTORY_CALLS = {
    "arange step 0": lambda L: L.arange(0, 3, 0),
    "arange end behind start": lambda L: L.arange(3, 0),
    "arange to nan": lambda L: L.arange(0, float("nan")),
    "linspace negative steps": lambda L: L.linspace(0, 1, -1),
    "eye negative": lambda L: L.eye(-1),
    "randint empty range": lambda L: L.randint(3, 3, (2,)),
    "randint(0, size)": lambda L: L.randint(0, (2,)),
}


@pytest.mark.parametrize("case", BAD_FACTORY_CALLS)
def test_a_factory_call_pytorch_refuses_is_refused(case):
    torch = pytest.importorskip("torch")
    for L in (pg, torch):
        with pytest.raises((RuntimeError, ValueError)):
            BAD_FACTORY_CALLS[case](L)


def copies(L):
    """pickle, deepcopy and copy of a leaf with a .grad, a non-leaf and a constant."""
    import copy
    import pickle

    x = L.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    out = {}
    for name, t in (("leaf", x), ("non-leaf", x * 2), ("constant", L.ones(2))):
        for how, fn in (
            ("pickle", lambda t: pickle.loads(pickle.dumps(t))),
            ("deepcopy", copy.deepcopy),
            ("copy", copy.copy),
        ):
            try:
                made = fn(t)
            except RuntimeError:
                out[name, how] = "refused"
                continue
            same_memory = np.shares_memory(made.detach().numpy(), t.detach().numpy())
            grad = None if made.grad is None else made.grad.tolist()
            out[name, how] = (made.tolist(), made.requires_grad, made.is_leaf, grad, same_memory)
    return out


def test_pickle_and_copies_keep_what_pytorch_keeps():
    torch = pytest.importorskip("torch")
    assert copies(pg) == copies(torch)


def test_equality_with_what_is_no_tensor_is_false_as_pytorch():
    torch = pytest.importorskip("torch")
    for L in (pg, torch):
        t = L.tensor([1.0, 2.0])
        assert (t == None) is False and (t != None) is True  # noqa: E711
        assert None not in [t] and t != "a"


def test_reductions_of_empty_tensors_keep_the_dtype():
    torch = pytest.importorskip("torch")
    for name in ("logsumexp", "softmax", "log_softmax"):
        with np.errstate(divide="ignore"):  # log(0): an empty sum, -inf as in PyTorch
            ours = getattr(pg.zeros(2, 0), name)(1)
        theirs = getattr(torch.zeros(2, 0), name)(1)
        assert (
            str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
            and ours.shape == theirs.shape
        )


def porting_methods(L):
    """Methods PyTorch code uses all the time, beside the ops of the op table: values, dtypes,
    shapes and, where they carry gradients, the gradients."""
    x = L.tensor(np.arange(24.0).reshape(2, 3, 4) / 7, dtype=L.float64, requires_grad=True)
    other = L.ones(4, 6)
    out = {}
    pieces = {
        "view_as": x.view_as(other),
        "reshape_as": x.reshape_as(other),
        "movedim": x.movedim(0, 2),
        "movedim tuples": x.movedim((0, 1), (2, 0)),
        "select": x.select(1, -1),
        "swapaxes": x.swapaxes(0, 2),
        "swapdims": x.swapdims(-1, 1),
        "clamp_min": x.clamp_min(1.0),
        "clamp_max": x.clamp_max(2.0),
    }
    pieces.update({f"unbind {i}": p for i, p in enumerate(x.unbind(2))})
    weights = 1.0
    total = 0.0
    for name, t in pieces.items():
        out[name] = (t.tolist(), tuple(t.shape))
        weights += 1.0
        total = total + (t * weights).sum()
    total.backward()
    out["gradient through all of them"] = x.grad.tolist()
    mask = x.detach() > 1.5
    out["any/all with dims"] = [
        mask.any(1).tolist(),
        mask.all(dim=(0, 2), keepdim=True).tolist(),
        mask.any().item(),
    ]
    made = [
        x.new_zeros(2, 3),
        x.new_ones((1, 2)),
        x.new_full((2,), 7.0),
        x.new_tensor([1, 2]),
        x.new_zeros(2, dtype=L.float32),
        x.new_empty(0, 3),
    ]
    out["new_*"] = [
        (t.tolist() if t.numel() else [], str(t.dtype).split(".")[-1], t.requires_grad)
        for t in made
    ]
    out["info"] = [x.is_floating_point(), x.nelement(), x.element_size(), x.is_cuda]
    copied = x.to(x.dtype, copy=True)
    out["to(copy=True), half()"] = [
        copied is x,
        copied.is_leaf,
        str(x.half().dtype).split(".")[-1],
        x.to("cpu", non_blocking=True) is x,
    ]
    return out


def test_porting_methods_match_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = porting_methods(pg), porting_methods(torch)
    for key in theirs:
        assert str(ours[key]) == str(theirs[key]), key


def closeness_and_detach(L):
    a = L.tensor([1.0, 2.0, float("nan")], dtype=L.float64)
    b = L.tensor([1.0 + 1e-9, 2.1, float("nan")], dtype=L.float64)
    out = [
        L.isclose(a, b).tolist(),
        a.isclose(b, equal_nan=True).tolist(),
        L.allclose(a[:2], b[:2]),
        L.allclose(a[:1], b[:1], rtol=0, atol=1e-8),
        a.allclose(a, equal_nan=True),
        L.equal(a[:2], a[:2].clone()),
        L.equal(a[:2], a[:1]),
    ]
    x = L.ones(2, requires_grad=True)
    y = (x * 2).detach_()
    out.append((y.requires_grad, y.grad_fn is None, y.is_leaf))
    try:
        x[0].detach_()
        out.append("view detached")
    except RuntimeError:
        out.append("view refused")
    return out


def test_closeness_and_detach_in_place_as_pytorch():
    torch = pytest.importorskip("torch")
    assert closeness_and_detach(pg) == closeness_and_detach(torch)


def scattering(L, seed):
    rng = np.random.default_rng(seed)
    x = L.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    src = L.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    source = L.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    index = L.tensor(rng.integers(0, 4, (2, 3)))  # with repeats
    rows = L.tensor(rng.integers(0, 3, (5,)))
    added = x.scatter_add(0, index, src)
    # a src larger than index: only its first index.shape elements count (forward only:
    # PyTorch 2.13's own backward refuses this case)
    larger = L.tensor(rng.standard_normal((4, 3))).scatter_add(0, index[:, :2], src.detach())
    into_columns = L.index_add(L.zeros(4, 3, dtype=L.float64), 1, rows, source, alpha=0.5)
    # scatter puts instead of adding; distinct positions per column, as PyTorch's docs ask
    distinct = L.tensor(np.stack([rng.permutation(4)[:2] for _ in range(3)], axis=1))
    put = L.scatter(x, 0, distinct, src)
    put_larger = x.detach().scatter(0, distinct[:1], src.detach())
    put_number = x.scatter(1, L.tensor([[2], [0], [1], [2]]), 7.0)
    total = (added * L.arange(12.0, dtype=L.float64).reshape(4, 3)).sum()
    total = total + (put * put).sum() + (put_number * 3).sum()
    (total + (into_columns**2).sum()).backward()
    return [
        np.round(t.detach().numpy(), 12).tolist()
        for t in (
            added,
            larger,
            into_columns,
            put,
            put_larger,
            put_number,
            x.grad,
            src.grad,
            source.grad,
        )
    ]


@pytest.mark.parametrize("seed", range(5))
def test_scatter_scatter_add_and_index_add_match_pytorch(seed):
    torch = pytest.importorskip("torch")
    assert scattering(pg, seed) == scattering(torch, seed)


def diagonals(L):
    x = L.tensor(np.arange(12.0).reshape(3, 4) / 5, dtype=L.float64, requires_grad=True)
    y = x * 1.0
    y.diagonal(1).mul_(3.0)  # in place through the view: recorded, and seen in y
    (y * y).sum().backward()
    return [
        y.tolist(),
        x.grad.tolist(),
        L.trace(x).item(),
        L.diag(x, -1).tolist(),
        x.diag().tolist(),
        L.diagonal(L.ones(2, 3, 4), 0, -1, 0).shape == (3, 2),
    ]


def test_diagonal_is_a_writable_view_as_in_pytorch():
    torch = pytest.importorskip("torch")
    assert diagonals(pg) == diagonals(torch)


IN_PLACE = {
    **{name: () for name in ("neg_", "abs_", "sqrt_", "exp_", "log_", "sin_", "cos_", "tanh_")},
    "sigmoid_": (),
    "clamp_min_": (0.6,),
    "clamp_max_": (1.4,),
}


def changed_in_place(L, name, through_view):
    x = L.tensor([[0.5, 1.5, 2.0], [0.25, 3.0, 1.2]], dtype=L.float64, requires_grad=True)
    y = x * 1.0
    target = y[:, 1:] if through_view else y
    getattr(target, name)(*IN_PLACE[name])
    (y * y).sum().backward()
    return np.round(y.tolist(), 12).tolist(), np.round(x.grad.tolist(), 12).tolist()


@pytest.mark.parametrize("through_view", [False, True])
@pytest.mark.parametrize("name", IN_PLACE)
def test_unary_in_place_methods_match_pytorch(name, through_view):
    torch = pytest.importorskip("torch")
    assert changed_in_place(pg, name, through_view) == changed_in_place(torch, name, through_view)


def random_fills(L):
    out = []
    w = L.zeros(2, 3, requires_grad=True)
    for fill in (lambda t: t.normal_(), lambda t: t.uniform_(-1, 1)):
        try:
            fill(w)  # a leaf that requires grad, outside no_grad
            out.append("changed")
        except RuntimeError:
            out.append("refused")
        try:
            fill(L.zeros(2, dtype=L.int64))
            out.append("int filled")
        except (RuntimeError, TypeError):
            out.append("int refused")
    x = L.ones(3, dtype=L.float64, requires_grad=True)
    y = x * 2
    y.uniform_(0.0, 0.5)  # the old value has no say in the new one: a zero gradient
    (y * 3).sum().backward()
    out.append((x.grad.tolist(), bool((y >= 0).all() and (y < 0.5).all())))
    return out


def test_random_fills_as_pytorch():
    torch = pytest.importorskip("torch")
    assert random_fills(pg) == random_fills(torch)


def test_random_fills_follow_manual_seed():
    draws = []
    for _ in range(2):
        pg.manual_seed(7)
        with pg.no_grad():
            w = pg.zeros(1000, dtype=pg.float64, requires_grad=True).normal_(1.0, 0.5)
        draws.append(w.numpy().copy())
    np.testing.assert_array_equal(draws[0], draws[1])
    assert abs(draws[0].mean() - 1.0) < 0.1 and abs(draws[0].std() - 0.5) < 0.1


def reductions_in_another_dtype(L):
    x = L.tensor(np.linspace(-1.0, 1.0, 12).reshape(3, 4), dtype=L.float32, requires_grad=True)
    outs = [
        x.sum(1, dtype=L.float64),
        L.sum(x, dtype=L.float64),
        x.mean(0, keepdim=True, dtype=L.float64),
        x.prod(1, dtype=L.float64),
        x.cumsum(1, dtype=L.float64),
        x.softmax(1, dtype=L.float64),
        L.log_softmax(x, 0, dtype=L.float64),
    ]
    total = outs[0].sum()
    for k, out in enumerate(outs[1:], start=2):
        total = total + (out * k).sum()
    total.backward()
    integers = L.tensor([[1, 2], [3, 4]])
    return [
        (str(out.dtype).split(".")[-1], np.round(out.tolist(), 12).tolist()) for out in outs
    ] + [
        str(x.grad.dtype).split(".")[-1],
        np.round(x.grad.numpy(), 5).tolist(),
        integers.sum(dtype=L.float32).item(),
        integers.mean(1, dtype=L.float32).tolist(),
        str(integers.cumsum(0, dtype=L.float32).dtype).split(".")[-1],
    ]


def test_reductions_take_pytorchs_dtype_and_send_the_gradient_back_in_the_inputs():
    torch = pytest.importorskip("torch")
    assert reductions_in_another_dtype(pg) == reductions_in_another_dtype(torch)


def bits_and_logic(L):
    a = L.tensor([[5, -6, 7], [0, 12, -1]])
    b = L.tensor([1, 2, 3])
    mask = L.tensor([True, False, True])
    real = L.tensor([0.0, -1.5, 2.0])
    results = [
        a & b,
        a | 6,
        3 ^ a,
        ~a,
        a << b,
        a >> 1,
        1 << b,
        40 >> b,
        mask ^ L.tensor([True, True, False]),
        mask << 1,
        L.bitwise_and(a, b),
        a.bitwise_or(b),
        L.bitwise_xor(a, 2),
        a.bitwise_not(),
        L.bitwise_left_shift(a, 2),
        a.bitwise_right_shift(b),
        L.logical_and(real, b),
        real.logical_or(L.zeros(3)),
        L.logical_xor(real, mask),
        real.logical_not(),
        L.logical_not(a),
    ]
    return [(str(r.dtype).split(".")[-1], r.tolist()) for r in results]


def test_bitwise_and_logical_ops_match_pytorch():
    torch = pytest.importorskip("torch")
    assert bits_and_logic(pg) == bits_and_logic(torch)


def legacy_type_names(L):
    x = L.ones(2, requires_grad=True)
    names = [
        L.ones(1, dtype=dtype).type()
        for dtype in (L.float32, L.float64, L.float16, L.int64, L.int32, L.int16, L.int8, L.uint8)
    ]
    names.append(L.tensor([True]).type())
    cast = x.type(L.float64)
    by_name = x.type("torch.DoubleTensor")
    return [name.split(".")[-1] for name in names] + [
        str(cast.dtype).split(".")[-1],
        cast.requires_grad,
        str(by_name.dtype).split(".")[-1],
        x.type(L.float32) is x,
    ]


def test_type_gives_and_takes_pytorchs_legacy_names():
    torch = pytest.importorskip("torch")
    assert legacy_type_names(pg) == legacy_type_names(torch)
    assert pg.ones(1).type() == "pathgrad.FloatTensor"


@settings(max_examples=60, deadline=None)
@given(
    shape=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    data=st.data(),
)
def test_unfold_windows_and_their_gradients_match_pytorch(shape, data):
    torch = pytest.importorskip("torch")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    size = data.draw(st.integers(0, shape[dim]))
    step = data.draw(st.integers(1, 4))
    values = np.random.default_rng(len(shape)).standard_normal(shape)
    ours = pg.tensor(values, requires_grad=True)
    theirs = torch.tensor(values, requires_grad=True)
    out, expected = ours.unfold(dim, size, step), theirs.unfold(dim, size, step)
    np.testing.assert_array_equal(out.numpy(), expected.detach().numpy())
    weights = np.random.default_rng(1).standard_normal(out.shape)
    (out * pg.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-12)


def aliases_and_steps(L):
    x = L.tensor([[0.5, -0.25, 0.75], [-0.6, 0.1, 0.3]], dtype=L.float64)
    y = L.tensor([1.5, -2.0, 0.4], dtype=L.float64)
    integers = L.tensor([7, -7, 6, -6, 0])
    results = [
        L.arcsin(x),
        x.arccos(),
        L.arctan(x),
        x.arctan2(y),
        L.arcsinh(x),
        (x + 2).arccosh(),
        x.arctanh(),
        L.fix(x * 3),
        x.absolute(),
        L.negative(x),
        x.positive(),
        x.sgn(),
        L.subtract(x, y, alpha=2),
        x.multiply(y),
        L.true_divide(x, y),
        x.divide(y),
        L.greater(x, y),
        x.greater_equal(y),
        L.less(x, y),
        x.less_equal(y),
        x.not_equal(y),
        x.moveaxis(0, 1),
        x.ravel(),
        L.isinf(y / 0),
        L.isposinf(y / 0),
        L.isneginf(y / 0),
        L.signbit(L.tensor([-0.0, 0.0, -1.0])),
        L.heaviside(L.tensor([-1.0, 0.0, 2.0], dtype=L.float64), y),
        integers.div(L.tensor([2, 2, -4, 4, 3]), rounding_mode="trunc"),
        integers.div(L.tensor([2, 2, -4, 4, 3]), rounding_mode="floor"),
        x.div(y, rounding_mode="floor"),
        L.frac(x * 3),
        L.exp2(x),
        x.logit(eps=0.2),
        L.lerp(x, y, 0.25),
        x.deg2rad(),
        L.rad2deg(x),
        L.float_power(x.float(), 2),
    ]
    return [
        (str(r.dtype).split(".")[-1], np.round(np.asarray(r.tolist(), dtype=float), 12).tolist())
        for r in results
    ] + [
        x.ndimension(),
        x.nbytes,
        x.itemsize,
    ]


def test_pytorchs_aliases_and_rounded_division_match_it():
    torch = pytest.importorskip("torch")
    assert aliases_and_steps(pg) == aliases_and_steps(torch)


def orders_and_positions(L):
    nan = float("nan")
    x = L.tensor([3.0, 1.0, 3.0, 2.0, 5.0, 5.0, nan, 1.0, nan, 7.0], dtype=L.float64)
    ties = L.tensor([[2.0, 1.0, 2.0, 3.0], [2.0, 1.0, 2.0, 3.0]], dtype=L.float64)
    odd = L.tensor([2.0, 1.0, 2.0, 3.0, 2.0], dtype=L.float64)
    grid = L.tensor([[0, 3, 0], [1, 0, 2]])
    results = [
        x.cummax(0),
        x.cummin(0),
        ties.median(1),
        odd.median(0),
        L.tensor([2.0, nan, 2.0, 3.0]).median(),
        L.tensor([2.0, nan, 2.0, 3.0]).median(0),
        L.tensor([[1.0, 5.0, 3.0], [4.0, nan, 6.0]]).median(1),
        L.tensor([3.0, 1.0, 4.0, 1.0]).kthvalue(1),
        L.tensor([[3.0, 1.0], [4.0, 1.0]]).kthvalue(2, 0, keepdim=True),
        L.nonzero(grid),
        grid.nonzero(as_tuple=True),
        L.tensor(5).nonzero(as_tuple=True),
        L.argwhere(grid),
        L.count_nonzero(grid),
        grid.count_nonzero(1),
        L.quantile(L.tensor([[1.0, nan, 3.0], [4.0, 5.0, 6.0]]), 0.5, 1),
        L.quantile(L.tensor([1.0, 2.0, 3.0, 4.0]), L.tensor([0.0, 0.5, 1.0]), 0, keepdim=True),
        L.tensor([[1.0, 2.0], [3.0, 4.0]]).quantile(0.4, interpolation="lower"),
        L.tensor([[1.0, 2.0], [3.0, 4.0]]).quantile(0.4, interpolation="higher", keepdim=True),
        L.nansum(L.tensor([nan, nan])),
        L.nanmean(L.tensor([[nan, 1.0], [nan, 3.0]]), 0),
        L.aminmax(L.tensor([[3, 1], [2, 4]]), dim=0),
        L.tensor([[1, 2], [3, 4]]).repeat_interleave(L.tensor([2, 1]), dim=0),
        L.tensor([1, 2, 3]).cumprod(0),
        L.tensor([[1.0, 2.0], [3.0, 4.0]]).logcumsumexp(0),
        L.tensor([-float("inf"), 0.0]).logcumsumexp(0),
        L.tensor([1.0, 2.0]).index_fill(0, L.tensor([1]), 7),
        L.tensor([[1, 2], [3, 4]]).index_fill(1, L.tensor([0]), 9),
        L.tensor_split(L.arange(7), 3),
        L.tensor_split(L.arange(7), [2, -2, 10]),
        L.hsplit(L.arange(12).reshape(2, 6), [1, 3]),
        L.vstack([L.tensor([1, 2]), L.tensor([3, 4])]),
        L.meshgrid(L.tensor([1, 2]), L.tensor([3, 4, 5]), indexing="xy"),
        L.matrix_power(L.tensor([[1, 1], [1, 0]]), 10),
        L.kron(L.tensor([1, 2]), L.tensor([[1, 0], [0, 1]])),
        L.cross(L.tensor([[1.0, 0.0, 0.0]]), L.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])),
        L.addmm(L.tensor([float("nan"), 1.0]), L.ones(2, 2), L.ones(2, 2), beta=0),
        L.diff(L.tensor([1, 4, 9, 16]), append=L.tensor([25])),
        L.take(L.tensor([[1, 2], [3, 4]]), L.tensor([3, 0])),
    ]
    return [_plain(r) for r in results]


def _plain(value):
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    values = value.tolist()
    return (str(value.dtype).split(".")[-1], np.round(np.asarray(values, dtype=float), 10).tolist())


def test_orders_positions_and_compositions_match_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = orders_and_positions(pg), orders_and_positions(torch)
    for position, (a, b) in enumerate(zip(ours, theirs)):
        assert str(a) == str(b), position


def matrix_functions(L):
    a = L.tensor([[4.0, 1.0, 2.0], [0.5, 3.0, 0.0], [1.0, -1.0, 5.0]], dtype=L.float64)
    values_lower, vectors_lower = L.linalg.eigh(a)
    values_upper, _ = L.linalg.eigh(a, UPLO="U")
    return [
        np.round(t.tolist(), 10).tolist()
        for t in (
            values_lower,
            vectors_lower.abs(),
            values_upper,
            L.linalg.slogdet(-a).sign,
            L.linalg.matrix_rank(L.tensor([[1.0, 2.0], [2.0, 4.0]])),
            L.linalg.cholesky(a @ a.mT, upper=True),
            L.linalg.solve(a, L.ones(2, 3, dtype=L.float64).mT),
            L.linalg.norm(a, float("inf")),
            L.linalg.norm(a, dim=0),
            L.linalg.matrix_power(a, 3),
        )
    ]


def test_matrix_functions_match_pytorch():
    torch = pytest.importorskip("torch")
    assert matrix_functions(pg) == matrix_functions(torch)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda L: L.linalg.inv(L.tensor([[1.0, 2.0], [2.0, 4.0]])), "singular"),
        (lambda L: L.linalg.solve(L.zeros(2, 2), L.ones(2)), "singular"),
        (lambda L: L.linalg.cholesky(L.tensor([[1.0, 2.0], [2.0, 1.0]])), "positive definite"),
    ],
)
def test_matrices_the_op_cannot_take_raise_what_both_libraries_users_catch(call, message):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match=message):
        call(pg)
    with pytest.raises(np.linalg.LinAlgError):
        call(pg)
    with pytest.raises(RuntimeError):
        call(torch)


def made_under_a_default(L, dtype):
    previous = L.get_default_dtype()
    L.set_default_dtype(dtype)
    try:
        made = [
            L.tensor([1.0, 2.0]),
            L.tensor(3.5),
            L.tensor([np.float32(1.0), 2.0]),
            L.tensor([1, 2]),
            L.zeros(2),
            L.ones(2),
            L.full((2,), 1.5),
            L.arange(0.5, 2),
            L.arange(3),
            L.linspace(0, 1, 3),
            L.eye(2),
            L.rand(2),
            L.randn(2),
            L.empty(2),
            L.zeros(2, dtype=L.float32),
        ]
        return [str(L.get_default_dtype()).split(".")[-1]] + [
            str(t.dtype).split(".")[-1] for t in made
        ]
    finally:
        L.set_default_dtype(previous)


@pytest.mark.parametrize("name", ["float64", "float16", "float32"])
def test_the_default_dtype_is_set_as_in_pytorch(name):
    torch = pytest.importorskip("torch")
    ours = made_under_a_default(pg, getattr(pg, name))
    theirs = made_under_a_default(torch, getattr(torch, name))
    assert ours == theirs
    assert pg.get_default_dtype() == pg.float32  # restored


def test_only_floating_dtypes_can_be_the_default():
    with pytest.raises(TypeError, match="set_default_dtype: only float16, float32 and float64"):
        pg.set_default_dtype(pg.int64)
    assert pg.get_default_dtype() == pg.float32


def assorted(L):
    seq = L.tensor([1.0, 3.0, 3.0, 5.0, 7.0], dtype=L.float64)
    rows = L.tensor([[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]], dtype=L.float64)
    x = L.tensor([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]], dtype=L.float64)
    ints = L.tensor([3, 1, 3, 0, 1, 3])
    results = [
        L.searchsorted(seq, L.tensor([3.0, 4.0, 0.0, 9.0], dtype=L.float64)),
        L.searchsorted(seq, L.tensor([3.0, 5.0], dtype=L.float64), right=True),
        L.searchsorted(rows, L.tensor([[3.0], [1.0]], dtype=L.float64), side="right"),
        L.bucketize(L.tensor([3.0, 6.0, 1.0], dtype=L.float64), seq),
        L.bucketize(L.tensor([3.0, 6.0], dtype=L.float64), seq, right=True),
        L.unique(ints),
        L.unique(ints, return_inverse=True, return_counts=True),
        L.unique(L.tensor([[1, 2], [1, 2], [0, 5]]), dim=0),
        L.bincount(ints),
        L.bincount(
            ints, weights=L.tensor([0.5, 1.0, 1.5, 2.0, 2.5, 3.0], dtype=L.float64), minlength=6
        ),
        L.isin(ints, L.tensor([1, 3])),
        L.isin(ints, L.tensor([1, 3]), invert=True),
        L.broadcast_tensors(L.ones(2, 1), L.zeros(3)),
        L.cdist(x, x * 2, p=2.0),
        L.cdist(x, x + 1, p=1.0),
        L.cdist(x.unsqueeze(0), x.unsqueeze(0), p=0),
        L.dist(x, x.flip(0), 3),
        L.block_diag(L.tensor([[1, 2]]), L.tensor(3), L.tensor([4, 5])),
        L.cartesian_prod(L.tensor([1, 2]), L.tensor([3, 4, 5])),
        L.vander(L.tensor([1.0, 2.0, 3.0], dtype=L.float64), N=4),
        L.vander(L.tensor([1, 2, 3]), increasing=True),
        L.cov(x),
        L.cov(x, correction=0),
        L.corrcoef(x),
        L.trapezoid(x),
        L.trapezoid(x, dx=0.5, dim=0),
        L.trapezoid(x, L.tensor([0.0, 1.0, 3.0], dtype=L.float64)),
        L.trapz(x[0]),
        L.tril_indices(3, 4, 1),
        L.triu_indices(4, 3, -1),
        L.logspace(0, 2, 3),
        L.logspace(0, 3, 4, base=2.0),
        L.sinc(L.tensor([0.0, 0.5, 1.0, -1.5], dtype=L.float64)),
        L.all(ints),
        L.any(ints == 0),
        L.all(x > -2, 1),
        L.any(x > 1, dim=0, keepdim=True),
        L.clone(x),
        L.ravel(x),
        L.masked_fill(x, x > 0, -7.0),
        L.msort(x),
        L.pinverse(x),
        L.concatenate([x, x], 1),
        L.sgn(x),
    ]
    return [_plain(r) for r in results] + [L.is_tensor(x), L.is_tensor(1.0), L.numel(x)]


def test_assorted_functions_match_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = assorted(pg), assorted(torch)
    for position, (a, b) in enumerate(zip(ours, theirs)):
        assert str(a) == str(b), position


def test_random_factories_draw_from_the_seeded_stream_with_pytorchs_shapes_and_dtypes():
    pg.manual_seed(11)
    first = [pg.randperm(6), pg.normal(0.0, 2.0, (2, 3)), pg.normal(pg.zeros(4), pg.ones(4))]
    first += [pg.bernoulli(pg.full((5,), 0.5)), pg.multinomial(pg.tensor([0.1, 0.0, 0.9, 0.5]), 3)]
    pg.manual_seed(11)
    again = [pg.randperm(6), pg.normal(0.0, 2.0, (2, 3)), pg.normal(pg.zeros(4), pg.ones(4))]
    again += [pg.bernoulli(pg.full((5,), 0.5)), pg.multinomial(pg.tensor([0.1, 0.0, 0.9, 0.5]), 3)]
    for a, b in zip(first, again):
        assert a.tolist() == b.tolist() and a.dtype == b.dtype
    permutation, normal, normal_like, coins, picks = first
    assert sorted(permutation.tolist()) == list(range(6)) and permutation.dtype == pg.int64
    assert normal.shape == (2, 3) and normal.dtype == pg.float32
    assert normal_like.shape == (4,)
    assert set(coins.tolist()) <= {0.0, 1.0} and coins.dtype == pg.float32
    assert len(set(picks.tolist())) == 3 and 1 not in picks.tolist()  # no zero-weight pick
    with pytest.raises(ValueError, match="without replacement"):
        pg.multinomial(pg.tensor([1.0, 0.0]), 2)
    torch = pytest.importorskip("torch")
    assert str(torch.multinomial(torch.tensor([[1.0, 2.0]]), 4, True).shape) == "torch.Size([1, 4])"
    assert pg.multinomial(pg.tensor([[1.0, 2.0]]), 4, True).shape == (1, 4)


def nan_aware_and_counts(L):
    nan = float("nan")
    x = L.tensor([[1.0, nan, 3.0, 0.5], [4.0, 5.0, nan, nan], [nan, nan, nan, nan]])
    values = L.tensor([1.0, 2.0, 1.0, 4.0, 10.0])
    results = [
        L.nanmedian(x[:2], 1),
        L.nanmedian(x, 1).values,  # an all-NaN row's index is PyTorch's nth_element's accident
        x.nanmedian(),
        L.nanmedian(L.tensor([nan, nan])),
        L.nanquantile(x, 0.5, 1),
        x.nanquantile(L.tensor([0.25, 0.75]), dim=1, keepdim=True),
        L.nanquantile(x, 0.3, interpolation="nearest"),
        L.quantile(L.tensor([1.0, float("inf"), 3.0]), 0.5),
        L.histc(values, bins=4, min=0, max=8),
        L.histc(values, bins=4),
        L.histc(L.tensor([2.0, 2.0]), bins=2),
        L.histogram(values, bins=4),
        L.where(L.tensor([[True, False], [False, True]])),
        L.where(L.tensor([True, False]), L.tensor([1.0, 2.0]), 0.0),
    ]
    return [_plain(r) for r in results]


def test_nan_aware_statistics_histograms_and_where_match_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = nan_aware_and_counts(pg), nan_aware_and_counts(torch)
    for position, (a, b) in enumerate(zip(ours, theirs)):
        assert str(a) == str(b), position


def odds_and_ends(L):
    x = L.tensor([1.0, -2.0, 0.0, -0.0, 3.5], dtype=L.float64)
    y = L.tensor([-1.0, 3.0, -1.0, 2.0, -0.0], dtype=L.float64)
    results = [
        L.copysign(x, y),
        x.copysign(-1.0),
        L.ldexp(L.tensor([1.5, 3.0]), L.tensor([2, -1])),
        L.frexp(L.tensor([8.0, 0.3, -5.0])),
        L.rsub(x, 5.0),
        L.rsub(x, y, alpha=2),
        L.gcd(L.tensor([12, 18, -4]), L.tensor([8, 12, 6])),
        L.lcm(L.tensor([4, 6, -3]), L.tensor([6, 4, 5])),
        L.nextafter(L.tensor([1.0], dtype=L.float64), L.tensor([2.0], dtype=L.float64)) - 1,
        L.isreal(x),
        L.renorm(L.tensor([[3.0, 4.0], [0.3, 0.4]]), 2, 0, 1.0),
        L.tensor([[3.0, 4.0, 1.0], [0.3, 0.4, 2.0]]).renorm(1, 1, 2.5),
        L.cumulative_trapezoid(L.tensor([1.0, 2.0, 4.0, 7.0])),
        L.cumulative_trapezoid(L.tensor([1.0, 2.0, 4.0]), L.tensor([0.0, 1.0, 3.0])),
        L.cumulative_trapezoid(L.tensor([[1.0, 2.0], [4.0, 7.0]]), dx=0.5, dim=0),
    ]
    return [_plain(r) for r in results] + [
        L.is_nonzero(L.tensor([0.5])),
        L.is_nonzero(L.tensor([0])),
    ]


def test_odds_and_ends_match_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = odds_and_ends(pg), odds_and_ends(torch)
    for position, (a, b) in enumerate(zip(ours, theirs)):
        assert str(a) == str(b), position


def last_names(L):
    x = L.tensor([[1.0, 2.0, 2.0, 3.0], [4.0, 4.0, 1.0, 1.0]])
    results = [
        L.mode(x, 1),
        L.mode(L.tensor([3.0, 1.0, 1.0, 3.0])),
        x.mode(0, keepdim=True),
        L.unique_consecutive(
            L.tensor([1, 1, 2, 2, 3, 1, 1]), return_inverse=True, return_counts=True
        ),
        L.unique_consecutive(L.tensor([[1, 1], [1, 2]])),
        L.unravel_index(L.tensor([5, 7]), (2, 4)),
        L.pdist(L.tensor([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])),
        L.pdist(L.tensor([[0.0, 1.0], [2.0, 4.0], [1.0, 1.0]]), p=1),
        L.combinations(L.tensor([1, 2, 3])),
        L.combinations(L.tensor([1, 2, 3]), r=2, with_replacement=True),
        L.combinations(L.tensor([1.0, 2.0, 3.0, 4.0]), r=3),
        L.select_scatter(L.zeros(2, 3), L.ones(3), 0, 1),
        L.select_scatter(L.zeros(2, 3), L.ones(2), 1, -1),
        L.slice_scatter(L.zeros(4, 3), L.ones(2, 3), 0, 1, 4, 2),
        L.slice_scatter(L.zeros(2, 5), L.ones(2, 2), dim=1, start=-2),
        L.index_put(L.zeros(4), (L.tensor([0, 0, 2]),), L.tensor([1.0, 2.0, 3.0]), accumulate=True),
        L.index_put(L.zeros(4), (L.tensor([1, 2]),), L.tensor(5.0)),
        L.zeros(2, 3).index_put((L.tensor([0, 1]), L.tensor([2, 0])), L.tensor([7.0, 8.0])),
        L.asarray([1.0, 2.0]),
        x.resolve_conj(),
    ]
    return [_plain(r) for r in results]


def test_the_last_names_match_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = last_names(pg), last_names(torch)
    for position, (a, b) in enumerate(zip(ours, theirs)):
        assert str(a) == str(b), position


def numerical_derivatives(L):
    x = L.tensor([[1.0, 2.0, 4.0, 7.0, 11.0], [2.0, 3.0, 5.0, 9.0, 10.0]], dtype=L.float64)
    coordinates = L.tensor([0.0, 1.0, 3.0, 4.0, 7.0], dtype=L.float64)
    results = [
        L.gradient(x),
        L.gradient(x, spacing=2.0, dim=1, edge_order=2),
        L.gradient(x, spacing=[0.5, 2.0]),
        L.gradient(x, spacing=(coordinates,), dim=1),
        L.gradient(x, spacing=(coordinates,), dim=1, edge_order=2),
    ]
    return [_plain(r) for r in results]


def test_gradient_matches_pytorch():
    torch = pytest.importorskip("torch")
    assert numerical_derivatives(pg) == numerical_derivatives(torch)

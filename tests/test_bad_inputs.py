"""A table of bad inputs across the public API (issue 18, item 2). Each row is one call, written
once for both libraries (`L` is pathgrad or torch), the error category PyTorch raises
(TypeError for an argument's type, IndexError for an index, otherwise RuntimeError or
ValueError), and what pathgrad's message must name: the op and the offending value or shape.
Where PyTorch is installed, the same call must fail in PyTorch with the same category."""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

import pathgrad as pg

TYPE, INDEX, OTHER = "TypeError", "IndexError", "RuntimeError or ValueError"


@dataclass
class Bad:
    name: str
    call: Callable
    category: str
    names: tuple[str, ...]  # what pathgrad's message must contain
    torch: bool = True  # False where PyTorch accepts the call or has no such API


def t(L, *shape, grad=False):
    return L.ones(*shape, requires_grad=grad)


def ar(L, *shape, grad=False):
    x = L.arange(float(math.prod(shape))).reshape(*shape)
    return x.requires_grad_() if grad else x


def _backward_twice(L):
    x = t(L, 3, grad=True)
    y = (x.exp()).sum()
    y.backward()
    y.backward()


def _hook_wrong_shape(L):
    x = t(L, 3, grad=True)
    y = x * 2
    y.register_hook(lambda g: g[:2])
    y.sum().backward()


def _grad_of_unused(L):
    x, z = t(L, 3, grad=True), t(L, 3, grad=True)
    L.autograd.grad((x * 2).sum(), [x, z])


def _in_place_on_leaf(L):
    x = t(L, 3, grad=True)
    x.add_(1)


def _load_missing_key(L):
    model = L.nn.Linear(3, 2)
    model.load_state_dict({"weight": L.ones(2, 3)})


def _load_wrong_shape(L):
    model = L.nn.Linear(3, 2)
    model.load_state_dict({"weight": L.ones(3, 3), "bias": L.ones(2)})


def _load_unexpected_key(L):
    model = L.nn.Linear(3, 2)
    model.load_state_dict({"weight": L.ones(2, 3), "bias": L.ones(2), "extra": L.ones(1)})


def _optimizer_state_mismatch(L):
    a = L.optim.SGD([t(L, 2, grad=True)], lr=0.1)
    b = L.optim.SGD([t(L, 2, grad=True)], lr=0.1)
    b.add_param_group({"params": [t(L, 3, grad=True)]})
    a.load_state_dict(b.state_dict())


def _version_error(L):
    x = t(L, 3, grad=True) * 1
    y = x * x
    x.mul_(2)
    y.sum().backward()


def _anomaly_nan(L):
    with L.autograd.detect_anomaly():
        x = L.tensor([-1.0, 4.0], requires_grad=True)
        (x.sqrt() * 0).sum().backward()
        raise_if_no_error = x.grad  # pathgrad and PyTorch both raise before this line
        return raise_if_no_error


def _data(L):
    return L.utils.data


BAD = [
    # shapes and broadcasting
    Bad("add unbroadcastable", lambda L: t(L, 2, 3) + t(L, 4), OTHER, ("add", "(2, 3)", "(4,)")),
    Bad("mul unbroadcastable", lambda L: t(L, 2, 3) * t(L, 3, 2), OTHER, ("mul", "(3, 2)")),
    Bad("matmul inner sizes", lambda L: t(L, 2, 3) @ t(L, 2, 3), OTHER, ("matmul", "(2, 3)")),
    Bad("matmul 0-d", lambda L: L.matmul(L.tensor(1.0), t(L, 2)), OTHER, ("matmul",)),
    Bad("mm of 1-d", lambda L: L.mm(t(L, 3), t(L, 3, 2)), OTHER, ("mm", "(3,)")),
    Bad("bmm of 2-d", lambda L: L.bmm(t(L, 2, 3), t(L, 3, 2)), OTHER, ("bmm", "(2, 3)")),
    Bad("dot sizes", lambda L: L.dot(t(L, 3), t(L, 4)), OTHER, ("dot", "3", "4")),
    Bad("cat sizes", lambda L: L.cat([t(L, 2, 3), t(L, 2, 4)], 0), OTHER, ("cat", "(2, 4)")),
    Bad("cat ranks", lambda L: L.cat([t(L, 2, 3), t(L, 3)], 0), OTHER, ("cat",)),
    Bad("stack shapes", lambda L: L.stack([t(L, 2), t(L, 3)]), OTHER, ("stack", "(3,)")),
    Bad("reshape size", lambda L: t(L, 2, 3).reshape(4, 2), OTHER, ("reshape", "(4, 2)", "6")),
    Bad("view size", lambda L: t(L, 2, 3).view(5), OTHER, ("view", "5")),
    Bad("reshape two -1", lambda L: t(L, 2, 3).reshape(-1, -1), OTHER, ("reshape", "-1")),
    Bad("expand smaller", lambda L: t(L, 3).expand(2), OTHER, ("expand", "(2,)")),
    Bad("expand non-1", lambda L: t(L, 2, 3).expand(4, 3), OTHER, ("expand", "(4, 3)")),
    Bad("broadcast_to", lambda L: L.broadcast_to(t(L, 3), (2, 4)), OTHER, ("broadcast_to",)),
    Bad("where shapes", lambda L: L.where(t(L, 2) > 0, t(L, 3), t(L, 2)), OTHER, ("where",)),
    Bad("einsum operands", lambda L: L.einsum("ij,jk->ik", t(L, 2, 3)), OTHER, ("einsum",)),
    Bad("einsum sizes", lambda L: L.einsum("ij,jk", t(L, 2, 3), t(L, 4, 2)), OTHER, ("einsum",)),
    Bad(
        "gather ranks",
        lambda L: t(L, 2, 3).gather(1, L.zeros(2, dtype=L.int64)),
        OTHER,
        ("gather",),
    ),
    Bad("inv non-square", lambda L: L.linalg.inv(t(L, 2, 3)), OTHER, ("inv", "(2, 3)")),
    Bad("det of 1-d", lambda L: L.linalg.det(t(L, 3)), OTHER, ("det", "(3,)")),
    Bad("solve sizes", lambda L: L.linalg.solve(L.eye(2), t(L, 3)), OTHER, ("solve",)),
    Bad("inv singular", lambda L: L.linalg.inv(L.zeros(2, 2)), OTHER, ("inv", "singular")),
    Bad("cholesky not PD", lambda L: L.linalg.cholesky(-L.eye(2)), OTHER, ("cholesky",)),
    Bad("outer of 2-d", lambda L: L.outer(t(L, 2, 2), t(L, 2)), OTHER, ("outer",)),
    Bad(
        "masked_fill mask",
        lambda L: t(L, 2, 3).masked_fill(t(L, 4) > 0, 0.0),
        OTHER,
        ("masked_fill",),
    ),
    Bad("split sizes", lambda L: t(L, 5).split([2, 2]), OTHER, ("split", "5")),
    Bad("unflatten", lambda L: t(L, 6).unflatten(0, (4, 2)), OTHER, ("unflatten",)),
    Bad("repeat fewer", lambda L: t(L, 2, 3).repeat(2), OTHER, ("repeat",)),
    # dtypes
    Bad(
        "int requires grad",
        lambda L: L.ones(3, dtype=L.int64, requires_grad=True),
        OTHER,
        ("int64",),
    ),
    Bad("int requires_grad_", lambda L: L.arange(3).requires_grad_(), OTHER, ("int64",)),
    Bad(
        "embedding float ids",
        lambda L: L.nn.functional.embedding(t(L, 2), t(L, 3, 2)),
        OTHER,
        ("embedding", "float32"),
    ),
    Bad(
        "one_hot of float",
        lambda L: L.nn.functional.one_hot(t(L, 3)),
        OTHER,
        ("one_hot", "float32"),
    ),
    Bad(
        "bitwise of float",
        lambda L: t(L, 2) & t(L, 2),
        TYPE,
        ("bitwise_and", "float32"),
        torch=False,
    ),
    Bad("index by float", lambda L: t(L, 3)[t(L, 1)], INDEX, ("float32",)),
    Bad(
        "cross_entropy float target shape",
        lambda L: L.nn.functional.cross_entropy(t(L, 2, 3), t(L, 2, 4)),
        OTHER,
        ("cross_entropy", "(2, 4)"),
    ),
    # dims out of range or repeated
    Bad("sum dim", lambda L: t(L, 2, 3).sum(2), INDEX, ("sum", "2")),
    Bad("sum dims repeated", lambda L: t(L, 2, 3).sum((0, 0)), OTHER, ("sum", "dim")),
    Bad("mean dim", lambda L: t(L, 2, 3).mean(-3), INDEX, ("mean", "-3")),
    Bad("softmax dim", lambda L: t(L, 2, 3).softmax(5), INDEX, ("softmax", "5")),
    Bad("log_softmax dim", lambda L: t(L, 2, 3).log_softmax(2), INDEX, ("log_softmax", "2")),
    Bad("transpose dim", lambda L: t(L, 2, 3).transpose(0, 5), INDEX, ("transpose", "5")),
    Bad("cat dim", lambda L: L.cat([t(L, 2), t(L, 2)], 3), INDEX, ("cat", "3")),
    Bad("max dim", lambda L: t(L, 2, 3).max(dim=3), INDEX, ("max", "3")),
    Bad("argmax dim", lambda L: t(L, 2, 3).argmax(dim=4), INDEX, ("argmax", "4")),
    Bad("unsqueeze dim", lambda L: t(L, 2).unsqueeze(5), INDEX, ("unsqueeze", "5")),
    Bad("flip dims repeated", lambda L: t(L, 2, 3).flip((0, 0)), OTHER, ("flip",)),
    Bad("permute count", lambda L: t(L, 2, 3).permute(0), OTHER, ("permute",)),
    Bad("permute repeated", lambda L: t(L, 2, 3).permute(0, 0), OTHER, ("permute",)),
    Bad("narrow past end", lambda L: t(L, 4).narrow(0, 2, 5), OTHER, ("narrow", "5")),
    Bad("cumsum dim", lambda L: t(L, 2).cumsum(1), INDEX, ("cumsum", "1")),
    Bad("var dim", lambda L: t(L, 2).var(3), INDEX, ("var", "3")),
    Bad(
        "gather dim", lambda L: t(L, 2).gather(2, L.zeros(2, dtype=L.int64)), INDEX, ("gather", "2")
    ),
    Bad("squeeze dim", lambda L: t(L, 2).squeeze(4), INDEX, ("squeeze", "4")),
    Bad("topk k", lambda L: t(L, 3).topk(5), OTHER, ("topk", "5")),
    # argument types
    Bad("sum dim str", lambda L: t(L, 2).sum("a"), TYPE, ("sum",)),
    Bad("max dim tuple", lambda L: t(L, 2, 3).max(dim=(0, 1)), TYPE, ("max",)),
    Bad("max keepdim no dim", lambda L: t(L, 2, 3).max(keepdim=True), TYPE, ("max",)),
    Bad("reshape str", lambda L: t(L, 2).reshape("a"), TYPE, ("reshape",)),
    Bad("tensor of object", lambda L: L.tensor([object()]), OTHER, ("object",)),
    Bad("randn str", lambda L: L.randn("3"), TYPE, ("randn",)),
    Bad("zeros float size", lambda L: L.zeros(2.5), TYPE, ("zeros",)),
    Bad("transpose str", lambda L: t(L, 2, 3).transpose("a", 1), TYPE, ("transpose",)),
    Bad("softmax no dim", lambda L: L.softmax(t(L, 2)), TYPE, ("softmax",)),
    Bad("clamp str", lambda L: t(L, 2).clamp(min="a"), TYPE, ("clamp",)),
    Bad("linear str size", lambda L: L.nn.Linear("3", 4), TYPE, ("Linear",)),
    Bad("pow str", lambda L: t(L, 2) ** "a", TYPE, ("pow",)),
    Bad("add str", lambda L: t(L, 2) + "a", TYPE, ("add",)),
    Bad("index str", lambda L: t(L, 2)["a"], TYPE, ("getitem", "'a'")),
    Bad("view dtype str", lambda L: t(L, 2).to("float99"), TYPE, ("float99",), torch=False),
    # empty and 0-d tensors
    Bad("max of empty", lambda L: L.zeros(0).max(), OTHER, ("max", "empty")),
    Bad("argmax of empty", lambda L: L.zeros(0).argmax(), INDEX, ("argmax", "empty")),
    Bad("0-d transpose", lambda L: L.tensor(1.0).transpose(0, 1), INDEX, ("transpose",)),
    Bad("0-d index", lambda L: L.tensor(1.0)[0], INDEX, ("0-d",)),
    Bad("cat of nothing", lambda L: L.cat([]), OTHER, ("cat",)),
    Bad("stack of nothing", lambda L: L.stack([]), OTHER, ("stack",)),
    Bad("min dim of empty", lambda L: L.zeros(0, 2).min(0), INDEX, ("min",)),
    Bad("item of many", lambda L: t(L, 2).item(), OTHER, ("item", "2")),
    # NaN into losses, under anomaly mode
    Bad("anomaly NaN gradient", _anomaly_nan, OTHER, ("sqrt", "nan")),
    # bad indices and class targets
    Bad("index past end", lambda L: t(L, 3)[5], INDEX, ("5", "3")),
    Bad("index second dim", lambda L: t(L, 2, 3)[:, 7], INDEX, ("7",)),
    Bad("too many indices", lambda L: t(L, 2)[0, 0], INDEX, ("2",)),
    Bad("index tensor past end", lambda L: t(L, 3)[L.tensor([0, 4])], INDEX, ("4",)),
    Bad(
        "cross_entropy class",
        lambda L: L.nn.functional.cross_entropy(t(L, 2, 3), L.tensor([0, 5])),
        INDEX,
        ("cross_entropy", "5"),
    ),
    Bad(
        "cross_entropy negative",
        lambda L: L.nn.functional.cross_entropy(t(L, 2, 3), L.tensor([0, -2])),
        INDEX,
        ("cross_entropy", "-2"),
    ),
    Bad(
        "nll_loss class",
        lambda L: L.nn.functional.nll_loss(t(L, 2, 3), L.tensor([3, 0])),
        INDEX,
        ("nll_loss", "3"),
    ),
    Bad(
        "embedding index",
        lambda L: L.nn.functional.embedding(L.tensor([7]), t(L, 3, 2)),
        INDEX,
        ("embedding", "7"),
    ),
    Bad("gather index", lambda L: t(L, 3).gather(0, L.tensor([5])), OTHER, ("gather", "5")),
    Bad(
        "index_select index",
        lambda L: t(L, 3).index_select(0, L.tensor([3])),
        INDEX,
        ("index_select", "3"),
    ),
    Bad(
        "one_hot class",
        lambda L: L.nn.functional.one_hot(L.tensor([4]), 3),
        OTHER,
        ("one_hot", "4"),
    ),
    Bad("scatter index", lambda L: t(L, 3).scatter(0, L.tensor([9]), 1.0), OTHER, ("scatter", "9")),
    # backward, autograd.grad, hooks
    Bad(
        "backward non-scalar",
        lambda L: (t(L, 3, grad=True) * 2).backward(),
        OTHER,
        ("backward", "(3,)"),
    ),
    Bad("backward no grad", lambda L: t(L, 3).sum().backward(), OTHER, ("backward",)),
    Bad("backward twice", _backward_twice, OTHER, ("backward", "retain_graph")),
    Bad(
        "backward gradient shape",
        lambda L: (t(L, 3, grad=True) * 2).backward(t(L, 4)),
        OTHER,
        ("(4,)", "(3,)"),
    ),
    Bad("grad of unused input", _grad_of_unused, OTHER, ("allow_unused",)),
    Bad(
        "grad non-scalar",
        lambda L: L.autograd.grad(t(L, 3, grad=True) * 2, [t(L, 3)]),
        OTHER,
        ("grad",),
    ),
    Bad(
        "hook on constant", lambda L: t(L, 3).register_hook(lambda g: g), OTHER, ("register_hook",)
    ),
    Bad("hook wrong shape", _hook_wrong_shape, OTHER, ("hook", "(2,)", "(3,)")),
    Bad("in-place on leaf", _in_place_on_leaf, OTHER, ("add_", "leaf")),
    Bad(
        "requires_grad off a non-leaf",
        lambda L: (t(L, 2, grad=True) * 2).requires_grad_(False),
        OTHER,
        ("requires_grad",),
    ),
    Bad("version error", _version_error, OTHER, ("mul", "version")),
    # nn modules
    Bad("linear input size", lambda L: L.nn.Linear(3, 2)(t(L, 4, 5)), OTHER, ("(4, 5)",)),
    Bad(
        "conv1d channels",
        lambda L: L.nn.Conv1d(3, 4, 3)(t(L, 1, 2, 5)),
        OTHER,
        ("conv1d", "3", "2"),
    ),
    Bad(
        "conv1d kernel too big",
        lambda L: L.nn.Conv1d(1, 1, 7)(t(L, 1, 1, 5)),
        OTHER,
        ("conv1d", "7"),
    ),
    Bad(
        "batchnorm features",
        lambda L: L.nn.BatchNorm1d(3)(t(L, 4, 5)),
        OTHER,
        ("batch_norm", "3", "5"),
    ),
    Bad("layernorm shape", lambda L: L.nn.LayerNorm(4)(t(L, 2, 3)), OTHER, ("layer_norm", "4")),
    Bad(
        "embedding module index",
        lambda L: L.nn.Embedding(3, 2)(L.tensor([3])),
        INDEX,
        ("embedding", "3"),
    ),
    Bad("sequential index", lambda L: L.nn.Sequential(L.nn.ReLU())[3], INDEX, ("3",)),
    Bad("load missing key", _load_missing_key, OTHER, ("bias", "Missing")),
    Bad("load unexpected key", _load_unexpected_key, OTHER, ("extra", "Unexpected")),
    Bad("load wrong shape", _load_wrong_shape, OTHER, ("weight", "(3, 3)", "(2, 3)")),
    Bad("dropout p", lambda L: L.nn.Dropout(1.5), OTHER, ("dropout", "1.5")),
    Bad(
        "F.dropout p",
        lambda L: L.nn.functional.dropout(t(L, 2), p=-0.1),
        OTHER,
        ("dropout", "-0.1"),
    ),
    Bad(
        "mha heads",
        lambda L: L.nn.MultiheadAttention(5, 2),
        OTHER,
        ("embed_dim", "5", "2"),
        torch=False,
    ),
    Bad("lstm input size", lambda L: L.nn.LSTM(3, 4)(t(L, 2, 1, 5)), OTHER, ("LSTM", "3", "5")),
    Bad(
        "cross_entropy reduction",
        lambda L: L.nn.functional.cross_entropy(t(L, 2, 3), L.tensor([0, 1]), reduction="avg"),
        OTHER,
        ("avg",),
    ),
    Bad(
        "mse_loss reduction",
        lambda L: L.nn.functional.mse_loss(t(L, 2), t(L, 2), reduction="none!"),
        OTHER,
        ("none!",),
    ),
    Bad("linear negative size", lambda L: L.nn.Linear(-1, 2), OTHER, ("-1",)),
    Bad(
        "embedding padding_idx",
        lambda L: L.nn.Embedding(3, 2, padding_idx=5),
        OTHER,
        ("padding_idx", "5"),
        torch=False,
    ),
    # optimisers and schedulers
    Bad(
        "sgd negative lr",
        lambda L: L.optim.SGD([t(L, 2, grad=True)], lr=-0.1),
        OTHER,
        ("learning rate", "-0.1"),
    ),
    Bad(
        "sgd negative momentum",
        lambda L: L.optim.SGD([t(L, 2, grad=True)], lr=0.1, momentum=-1),
        OTHER,
        ("momentum", "-1"),
    ),
    Bad(
        "adam betas",
        lambda L: L.optim.Adam([t(L, 2, grad=True)], betas=(1.5, 0.9)),
        OTHER,
        ("beta", "1.5"),
    ),
    Bad("adam eps", lambda L: L.optim.Adam([t(L, 2, grad=True)], eps=-1e-8), OTHER, ("eps",)),
    Bad(
        "adamw weight decay",
        lambda L: L.optim.AdamW([t(L, 2, grad=True)], weight_decay=-1),
        OTHER,
        ("weight_decay", "-1"),
    ),
    Bad("empty parameter list", lambda L: L.optim.SGD([], lr=0.1), OTHER, ("empty",)),
    Bad("params a tensor", lambda L: L.optim.SGD(t(L, 2, grad=True), lr=0.1), TYPE, ("iterable",)),
    Bad(
        "parameter in two groups",
        lambda L: (lambda p: L.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1))(
            t(L, 2, grad=True)
        ),
        OTHER,
        ("more than one",),
    ),
    Bad("optimizer state groups", _optimizer_state_mismatch, OTHER, ("group",)),
    Bad(
        "scheduler of a list",
        lambda L: L.optim.lr_scheduler.StepLR([1, 2], 3),
        TYPE,
        ("Optimizer",),
    ),
    # the data loader
    Bad(
        "batch_size 0",
        lambda L: _data(L).DataLoader(_data(L).TensorDataset(t(L, 4)), batch_size=0),
        OTHER,
        ("batch_size", "0"),
    ),
    Bad(
        "batch_size -2",
        lambda L: _data(L).DataLoader(_data(L).TensorDataset(t(L, 4)), batch_size=-2),
        OTHER,
        ("batch_size", "-2"),
    ),
    Bad(
        "sampler and shuffle",
        lambda L: _data(L).DataLoader(
            _data(L).TensorDataset(t(L, 4)), sampler=[0, 1], shuffle=True
        ),
        OTHER,
        ("sampler", "shuffle"),
    ),
    Bad(
        "random_split lengths",
        lambda L: _data(L).random_split(_data(L).TensorDataset(t(L, 4)), [2, 3]),
        OTHER,
        ("random_split", "5", "4"),
    ),
    Bad(
        "subset index",
        lambda L: _data(L).Subset(_data(L).TensorDataset(t(L, 4)), [9])[0],
        INDEX,
        ("9",),
    ),
    Bad(
        "tensor dataset sizes",
        lambda L: _data(L).TensorDataset(t(L, 4), t(L, 3)),
        OTHER,
        ("TensorDataset", "4", "3"),
        torch=False,
    ),
    Bad(
        "num_workers negative",
        lambda L: _data(L).DataLoader(_data(L).TensorDataset(t(L, 4)), num_workers=-1),
        OTHER,
        ("num_workers", "-1"),
    ),
    Bad(
        "batch_sampler and batch_size",
        lambda L: _data(L).DataLoader(
            _data(L).TensorDataset(t(L, 4)), batch_sampler=[[0]], batch_size=2
        ),
        OTHER,
        ("batch_sampler",),
    ),
]

CATEGORY_TYPES = {TYPE: (TypeError,), INDEX: (IndexError,), OTHER: (RuntimeError, ValueError)}


def test_the_table_holds_a_hundred_bad_inputs():
    assert len(BAD) >= 100
    assert len({b.name for b in BAD}) == len(BAD)


def _category(error: BaseException) -> str:
    if isinstance(error, IndexError):
        return INDEX
    if isinstance(error, TypeError):
        return TYPE
    if isinstance(error, (RuntimeError, ValueError)):
        return OTHER
    return type(error).__name__


@pytest.mark.parametrize("bad", BAD, ids=[b.name for b in BAD])
def test_pathgrad_refuses_clearly(bad):
    with pytest.raises(Exception) as caught:
        bad.call(pg)
    error = caught.value
    assert _category(error) == bad.category, f"{type(error).__name__}: {error}"
    message = str(error)
    missing = [n for n in bad.names if n.lower() not in message.lower()]
    assert not missing, f"message lacks {missing}: {message}"


@pytest.mark.parametrize("bad", [b for b in BAD if b.torch], ids=[b.name for b in BAD if b.torch])
def test_pytorch_refuses_with_the_same_category(bad):
    torch = pytest.importorskip("torch")
    namespace = types.SimpleNamespace(
        **{n: getattr(torch, n) for n in dir(torch) if not n.startswith("_")}
    )
    namespace.utils = __import__("torch.utils.data").utils
    with pytest.raises(Exception) as caught:  # noqa: PT011 - the category is what is compared
        bad.call(namespace)
    assert _category(caught.value) == bad.category, f"{type(caught.value).__name__}: {caught.value}"


_ = np  # the table's calls build their inputs through L

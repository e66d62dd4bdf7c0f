"""Tensor's method surface comes from tables: families, aliases, derived in-place variants."""

import numpy as np
import pytest

import pathgrad as pg
from pathgrad import methods
from pathgrad.methods.aliases import ALIASES, METHOD_ALIASES
from pathgrad.methods.inplace import IN_PLACE

# drawing random numbers lives in pathgrad.creation, above the tensor layer
NOT_METHODS = {"bernoulli", "multinomial"}

# arguments for each derived in-place variant (after the tensor itself); inputs in (0.2, 0.9)
INDEX = pg.tensor([0, 2])
SOURCE = pg.tensor([5.0, 6.0], dtype=pg.float64)
IN_PLACE_ARGS = {
    "add": (pg.tensor([1.5, -2.0, 0.5]),),
    "sub": (0.25,),
    "mul": (pg.tensor([1.5, -2.0, 0.5]),),
    "div": (pg.tensor([1.5, -2.0, 0.5]),),
    "pow": (3.0,),
    "clamp": (0.3, 0.6),
    "clamp_min": (0.4,),
    "clamp_max": (0.5,),
    "lerp": (pg.tensor([1.5, -2.0, 0.5]), 0.25),
    "addcmul": (pg.tensor([1.0, 2.0, 3.0]), pg.tensor([0.5, 0.5, 2.0])),
    "addcdiv": (pg.tensor([1.0, 2.0, 3.0]), pg.tensor([0.5, 0.5, 2.0])),
    "scatter": (0, INDEX, SOURCE),
    "scatter_add": (0, INDEX, SOURCE),
    "scatter_reduce": (0, INDEX, SOURCE, "prod"),
    "index_add": (0, INDEX, SOURCE),
    "index_copy": (0, INDEX, SOURCE),
    "index_fill": (0, INDEX, 2.0),
    "index_put": ((INDEX,), SOURCE),
    "index_reduce": (0, INDEX, SOURCE, "prod"),
}


def test_every_family_name_is_bound_once():
    table = methods.family_methods()  # refuses a name two families bind
    for name, method in table.items():
        assert getattr(pg.Tensor, name) is method, name


def test_every_pathgrad_function_pytorch_also_offers_as_a_method_is_one():
    torch = pytest.importorskip("torch")
    missing = [
        name for name in pg.__all__ if hasattr(torch.Tensor, name) and not hasattr(pg.Tensor, name)
    ]
    assert sorted(missing) == sorted(NOT_METHODS)


def test_an_alias_is_its_target_in_both_places():
    for alias, target in ALIASES.items():
        found = False
        for place in (pg, pg.Tensor):
            if hasattr(place, target):
                found = True
                assert getattr(place, alias) is getattr(place, target), (place, alias)
                assert alias in (pg.__all__ if place is pg else dir(pg.Tensor))
        assert found, alias
    for alias, target in METHOD_ALIASES.items():
        assert getattr(pg.Tensor, alias) is getattr(pg.Tensor, target)


@pytest.mark.parametrize("name", sorted(IN_PLACE))
def test_a_derived_in_place_variant_is_its_op_written_back(name):
    """Value, gradient and the tensor's identity, against the out-of-place op."""
    start = np.array([0.2, 0.5, 0.9])
    args = IN_PLACE_ARGS.get(name, ())
    x = pg.tensor(start, dtype=pg.float64, requires_grad=True)
    expected = getattr(x, name)(*args)
    (expected * pg.tensor([1.0, 2.0, 3.0])).sum().backward()
    expected_grad = x.grad.numpy().copy()
    y = pg.tensor(start, dtype=pg.float64, requires_grad=True)
    changed = y.clone()
    returned = getattr(changed, name + "_")(*args)
    assert returned is changed and changed._version == 1
    np.testing.assert_allclose(changed.numpy(), expected.numpy())
    (changed * pg.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), expected_grad)


def test_in_place_variants_take_what_their_op_takes():
    x = pg.tensor([1.0, 2.0])
    x.add_(pg.tensor([1.0, 1.0]), alpha=2)
    x.div_(pg.tensor([2.0, 3.0]), rounding_mode="floor")
    assert x.tolist() == [1.0, 1.0]
    with pytest.raises(TypeError):
        x.exp_(3)


def test_an_op_that_casts_and_views_does_both():
    from pathgrad.ops.registry import REGISTRY, op

    @op("test_cast_view", view=True, casts=True, rule="dL/dx = dL/dout")
    def cast_view(x):
        return x.data.reshape(-1), lambda grad: grad.reshape(x.data.shape)

    try:
        base = pg.tensor([[1.0, 2.0], [3.0, 4.0]])
        same = cast_view(base)
        assert same._base is base  # tied as a view
        cast = cast_view(base, dtype=pg.float64)
        assert cast.dtype == np.float64  # cast first
        x = pg.tensor([[1.0, 2.0]], dtype=pg.float32, requires_grad=True)
        cast_view(x, dtype=pg.float64).sum().backward()
        assert x.grad.dtype == np.float32  # the cast's rule casts the gradient back
    finally:
        del REGISTRY["test_cast_view"]


# methods whose call needs more than the tensor and a dim, and what to pass first
LEADING = {
    "kthvalue": (2,),
    "quantile": (0.5,),
    "nanquantile": (0.5,),
    "split": (2,),
    "chunk": (2,),
    "narrow": (0, 1),
    "select": (0,),
    "roll": (1,),
    "tensor_split": (2,),
    "topk": (2,),
    "repeat_interleave": (2,),
}
# these take more than a dim to mean anything; their parsers are PyTorch's C++ ones anyway
NEEDS_MORE = {"index_select", "gather", "flip", "unsqueeze", "renorm", "movedim", "transpose"}


def _accepts(tensor, name, kwargs):
    try:
        getattr(tensor, name)(*LEADING.get(name, ()), **kwargs)
    except TypeError:
        return False
    except Exception:  # another complaint: the argument form itself was taken
        return True
    return True


def test_numpy_names_are_taken_exactly_where_pytorch_takes_them():
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    ours, theirs = pg.tensor(data), torch.tensor(data)
    names = sorted(
        n
        for n in dir(torch.Tensor)
        if not n.startswith("_") and hasattr(pg.Tensor, n) and n not in NEEDS_MORE
    )
    differ = []
    for name in names:
        if not _accepts(theirs, name, {"dim": 0}):
            continue  # takes no dim: nothing for a NumPy name to stand for
        for kwargs in ({"axis": 0}, {"dim": 0, "keepdims": True}, {"axis": 0, "keepdims": True}):
            if _accepts(ours, name, kwargs) != _accepts(theirs, name, kwargs):
                differ.append((name, kwargs))
    assert differ == []


@pytest.mark.parametrize("name", ["sum", "mean", "std", "var", "prod", "amax", "logsumexp"])
def test_numpy_names_give_what_pytorch_names_give(name):
    x = pg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 7.0]], requires_grad=True)
    mine = getattr(x, name)(axis=1, keepdims=True)
    assert mine.shape == (2, 1)
    np.testing.assert_allclose(mine.numpy(), getattr(x, name)(dim=1, keepdim=True).numpy())
    np.testing.assert_allclose(getattr(pg, name)(x, axis=1).numpy(), getattr(x, name)(1).numpy())
    mine.sum().backward()
    assert x.grad.shape == x.shape


def test_max_with_numpy_names_and_both_names_refused():
    x = pg.tensor([[1.0, 5.0], [4.0, 2.0]])
    values, indices = x.max(axis=1, keepdims=True)
    assert values.tolist() == [[5.0], [4.0]] and indices.tolist() == [[1], [0]]
    with pytest.raises(TypeError, match="axis= and dim="):
        x.sum(axis=0, dim=0)

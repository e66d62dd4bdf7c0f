"""Tensor methods that change the tensor in place (recorded, so gradients flow through them).

`IN_PLACE` derives `name_` from the out-of-place method `name` (see derive.in_place), as
PyTorch's derivatives.yaml derives in-place variants: adding a name there is all a new in-place
variant takes. The value is whether the op's rule reads its input, so the old value must be
kept: True unless the rule reads only its output (exp, tanh, sigmoid, sqrt) or neither
(add, neg, clamp's mask is computed in the forward). Fills, which have no out-of-place op, are
written out below.
"""

from __future__ import annotations

from pathgrad import inplace, random
from pathgrad.ops import elementwise
from pathgrad.tensor import as_tensor

IN_PLACE = {
    "add": False,
    "sub": False,
    "mul": True,
    "div": True,
    "pow": True,
    "neg": False,
    "abs": True,
    "sqrt": False,
    "rsqrt": True,
    "square": True,
    "reciprocal": True,
    "exp": False,
    "expm1": True,
    "log": True,
    "log1p": True,
    "log2": True,
    "log10": True,
    "sin": True,
    "cos": True,
    "tan": True,
    "tanh": False,
    "sigmoid": False,
    "relu": False,
    "floor": True,
    "ceil": True,
    "round": True,
    "trunc": True,
    "frac": True,
    "sign": True,
    "clamp": False,
    "clamp_min": False,
    "clamp_max": False,
    "lerp": True,
    "addcmul": False,
    "addcdiv": False,
    "scatter": False,
    "scatter_add": False,
    "scatter_reduce": True,
    "index_add": False,
    "index_copy": False,
    "index_fill": False,
    "index_put": False,
    "index_reduce": True,
}


def _draws(self, name, generator, draw):
    if self._data.dtype.kind != "f":
        raise TypeError(f"{name}: draws real numbers, which dtype {self.dtype} cannot hold")
    return draw(random.rng(generator, name), self._data.shape).astype(self._data.dtype)


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with draws from N(mean, std^2), from `generator` or pathgrad's default one."""
    draws = _draws(self, "normal_", generator, lambda rng, shape: rng.normal(mean, std, shape))
    return inplace.in_place(self, "normal_", lambda old: inplace.everywhere(old, draws))


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    """Fill with draws from U[a, b), from `generator` or pathgrad's default one."""
    draws = _draws(self, "uniform_", generator, lambda rng, shape: rng.uniform(a, b, shape))
    return inplace.in_place(self, "uniform_", lambda old: inplace.everywhere(old, draws))


def zero_(self):
    return inplace.in_place(self, "zero_", lambda old: inplace.everywhere(old, 0.0))


def fill_(self, value):
    return inplace.in_place(self, "fill_", lambda old: inplace.everywhere(old, value))


def copy_(self, src):
    source = as_tensor(src)
    elementwise.check_mask(self, source, "copy_")  # src broadcasts to self, as a mask does
    return inplace.in_place(self, "copy_", lambda old: inplace.everywhere(old, src))


def masked_fill_(self, mask, value):
    mask = as_tensor(mask)
    elementwise.check_mask(self, mask, "masked_fill_")
    return inplace.in_place(self, "masked_fill_", lambda old: elementwise.where(mask, value, old))


METHODS = {
    "normal_": normal_,
    "uniform_": uniform_,
    "zero_": zero_,
    "fill_": fill_,
    "copy_": copy_,
    "masked_fill_": masked_fill_,
}

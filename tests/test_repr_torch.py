"""repr against PyTorch's for generated tensors: every dtype pathgrad prints, shapes from 0-d to
4-D with empty and summarised ones, and values that switch the style (wide ranges, whole
numbers, zeros, NaN and infinities)."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import pathgrad as pg

DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int32, np.int8, np.uint8, np.bool_]


def normalized(text: str) -> str:
    """The same text with the suffixes on the values' line: `dtype=pathgrad.float64` is longer
    than `dtype=torch.float64`, so it may wrap where PyTorch's does not."""
    return re.sub(r",\n +(dtype=|requires_grad=|grad_fn=|size=)", r", \1", text)


@st.composite
def tensors(draw):
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = draw(
        st.one_of(
            array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6),
            st.tuples(st.integers(995, 1300)),  # around the summary threshold
            st.tuples(st.integers(7, 40), st.integers(30, 60)),
        )
    )
    if dtype.kind == "f":
        scale = draw(st.sampled_from([1.0, 1e-6, 1e-3, 1e3, 1e9]))
        pool = [0.0, -0.0, np.nan, np.inf, -np.inf, 1.0, -3.0, 2.5 * scale, -7e-5, 123456.0]
        data = draw(arrays(np.float64, shape, elements=st.sampled_from(pool)))
        noise = np.random.default_rng(draw(st.integers(0, 99))).standard_normal(shape) * scale
        if draw(st.booleans()):
            data = np.where(np.isfinite(data) & (data != 0), noise, data)
        with np.errstate(over="ignore"):
            data = data.astype(dtype)
    elif dtype.kind == "b":
        data = draw(arrays(dtype, shape))
    else:
        info = np.iinfo(dtype)
        low, high = max(int(info.min), -(10**6)), min(int(info.max), 10**6)
        data = draw(arrays(dtype, shape, elements=st.integers(low, high)))
    return data


@settings(max_examples=300, deadline=None)
@given(tensors(), st.booleans())
def test_repr_matches_pytorch(data, requires_grad):
    torch = pytest.importorskip("torch")
    requires_grad = requires_grad and data.dtype in (np.float32, np.float64)
    ours = repr(pg.tensor(data, requires_grad=requires_grad))
    theirs = repr(torch.tensor(data, requires_grad=requires_grad)).replace("torch.", "pathgrad.")
    assert normalized(ours) == normalized(theirs)

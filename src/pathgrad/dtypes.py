"""PyTorch's dtype objects: `pathgrad.float32` prints as PyTorch's `torch.float32` does, and is
equal to (and hashed as) NumPy's float32, so either can be passed wherever a dtype is taken."""

from __future__ import annotations

from typing import Any

import numpy as np


class dtype:  # noqa: N801 (PyTorch's name, as torch.dtype)
    """A tensor's dtype, as PyTorch's `torch.dtype`. NumPy takes it wherever it takes a dtype
    (its `.dtype` is NumPy's, the protocol np.dtype() reads), and NumPy's attributes (`kind`,
    `itemsize`, `type`, ...) are read through; one object per dtype, so `is` compares too."""

    __slots__ = ("dtype", "name")

    def __init__(self, numpy_dtype: np.dtype, name: str) -> None:
        self.dtype = numpy_dtype
        self.name = name

    def __repr__(self) -> str:
        return f"pathgrad.{self.name}"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        # in f-strings NumPy's name, as pathgrad's error messages write dtypes ("not int64")
        return format(self.name, spec)

    def __eq__(self, other: Any) -> bool:
        if other is self:
            return True
        if other is None:  # np.dtype(None) is float64
            return False
        try:
            return self.dtype == np.dtype(other)
        except TypeError:
            return NotImplemented

    def __ne__(self, other: Any) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(self.dtype)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.dtype, name)

    def __reduce__(self) -> tuple:
        return of, (self.dtype,)

    @property
    def is_floating_point(self) -> bool:
        return self.dtype.kind == "f"

    @property
    def is_complex(self) -> bool:
        return self.dtype.kind == "c"

    @property
    def is_signed(self) -> bool:
        return self.dtype.kind in "fic"


_KNOWN: dict = {}


def of(numpy_dtype: Any) -> dtype:
    """The dtype object for NumPy's `numpy_dtype` (made once per dtype)."""
    known = _KNOWN.get(numpy_dtype)
    if known is None:
        numpy_dtype = np.dtype(numpy_dtype)
        known = _KNOWN.get(numpy_dtype)
        if known is None:
            known = _KNOWN[numpy_dtype] = dtype(numpy_dtype, numpy_dtype.name)
    return known


float16 = of(np.float16)
float32 = of(np.float32)
float64 = of(np.float64)
uint8 = of(np.uint8)
int8 = of(np.int8)
int16 = of(np.int16)
int32 = of(np.int32)
int64 = of(np.int64)
bool_ = of(np.bool_)

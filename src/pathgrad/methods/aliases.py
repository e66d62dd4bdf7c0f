"""PyTorch's second names for one function, in one table shared by `Tensor`'s methods and the
`pathgrad` namespace: each alias is bound to whatever its target is, in each place the target
exists (so `pg.arcsin is pg.asin` and `Tensor.arcsin is Tensor.asin`)."""

from __future__ import annotations

ALIASES = {
    "absolute": "abs",
    "arccos": "acos",
    "arccosh": "acosh",
    "arcsin": "asin",
    "arcsinh": "asinh",
    "arctan": "atan",
    "arctan2": "atan2",
    "arctanh": "atanh",
    "clip": "clamp",
    "concat": "cat",
    "concatenate": "cat",
    "div": "divide",
    "fix": "trunc",
    "greater": "gt",
    "greater_equal": "ge",
    "less": "lt",
    "less_equal": "le",
    "moveaxis": "movedim",
    "multiply": "mul",
    "negative": "neg",
    "not_equal": "ne",
    "sgn": "sign",
    "sub": "subtract",
    "swapaxes": "transpose",
    "swapdims": "transpose",
    "trapz": "trapezoid",
}

# names PyTorch gives only as methods
METHOD_ALIASES = {
    "__iadd__": "add_",
    "__isub__": "sub_",
    "__imul__": "mul_",
    "__itruediv__": "div_",
    "ndimension": "dim",
    "nelement": "numel",
    "resolve_neg": "resolve_conj",
}

"""`pg.special`, PyTorch's torch.special under its names, for the functions pathgrad has.

>>> pg.special.gammaln(pg.tensor([1.0, 5.0]))
tensor([0.0000, 3.1781])
"""

from __future__ import annotations

import math

from pathgrad.ops.elementwise import (
    erf,
    erfc,
    exp2,
    expm1,
    log1p,
    logit,
    sigmoid,
    sinc,
    xlogy,
)
from pathgrad.ops.reduce import log_softmax, logsumexp, softmax
from pathgrad.ops.registry import as_tensor
from pathgrad.ops.special import digamma, erfinv, lgamma, polygamma

expit = sigmoid
gammaln = lgamma
psi = digamma


def ndtr(x):
    """The standard normal distribution function, (1 + erf(x / sqrt 2)) / 2, as erfc(-x / sqrt 2)
    / 2, which keeps its digits in the lower tail."""
    return erfc(as_tensor(x) * (-1 / math.sqrt(2))) * 0.5


def ndtri(p):
    """The inverse of ndtr: sqrt(2) erfinv(2p - 1)."""
    return erfinv(as_tensor(p) * 2 - 1) * math.sqrt(2)


def multigammaln(a, p):
    """log of the multivariate gamma function of dimension p: p(p - 1)/4 log(pi) plus
    sum_j lgamma(a - j/2) for j < p."""
    a = as_tensor(a)
    total = lgamma(a)
    for j in range(1, p):
        total = total + lgamma(a - j / 2)
    return total + p * (p - 1) / 4 * math.log(math.pi)


__all__ = [
    "digamma",
    "erf",
    "erfc",
    "erfinv",
    "exp2",
    "expit",
    "expm1",
    "gammaln",
    "log1p",
    "log_softmax",
    "logit",
    "logsumexp",
    "multigammaln",
    "ndtr",
    "ndtri",
    "polygamma",
    "psi",
    "sinc",
    "softmax",
    "xlogy",
]

"""Tensor methods: reductions, scans, sorting and statistics.

`METHODS` names each method beside the function it binds (`pathgrad.methods.bind`); a
method whose arguments differ from its op's is a short function here."""

from __future__ import annotations

from pathgrad.ops import reduce
from pathgrad.ops import reduce as reductions  # `reduce` is also an argument's name


def scatter_reduce(self, dim, index_, src, reduce, *, include_self=True):
    return reductions.scatter_reduce(self, dim, index_, src, reduce, include_self=include_self)


def index_reduce(self, dim, index_, source, reduce, *, include_self=True):
    return reductions.index_reduce(self, dim, index_, source, reduce, include_self=include_self)


METHODS = {
    "cumsum": reduce.cumsum,
    "sort": reduce.sort,
    "argsort": reduce.argsort,
    "topk": reduce.topk,
    "sum": reduce.sum,
    "mean": reduce.mean,
    "var": reduce.var,
    "std": reduce.std,
    "max": reduce.max,
    "min": reduce.min,
    "amax": reduce.amax,
    "amin": reduce.amin,
    "argmax": reduce.argmax,
    "argmin": reduce.argmin,
    "prod": reduce.prod,
    "logsumexp": reduce.logsumexp,
    "norm": reduce.norm,
    "softmax": reduce.softmax,
    "log_softmax": reduce.log_softmax,
    "scatter_reduce": scatter_reduce,
    "index_reduce": index_reduce,
    "renorm": reductions.renorm,
    "mode": reductions.mode,
    "unique_consecutive": reductions.unique_consecutive,
    "bincount": reduce.bincount,
    "unique": reduce.unique,
    "cov": reduce.cov,
    "corrcoef": reduce.corrcoef,
    "msort": reduce.msort,
    "nansum": reduce.nansum,
    "nanmean": reduce.nanmean,
    "aminmax": reduce.aminmax,
    "count_nonzero": reduce.count_nonzero,
    "cumprod": reduce.cumprod,
    "logcumsumexp": reduce.logcumsumexp,
    "cummax": reduce.cummax,
    "cummin": reduce.cummin,
    "kthvalue": reduce.kthvalue,
    "median": reduce.median,
    "quantile": reduce.quantile,
    "nanquantile": reduce.nanquantile,
    "nanmedian": reduce.nanmedian,
    "histc": reduce.histc,
    "histogram": reduce.histogram,
}

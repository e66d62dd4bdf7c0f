"""Tensor methods: products and linear algebra.

`METHODS` names each method beside the function it binds (`pathgrad.methods.bind`); a
method whose arguments differ from its op's is a short function here."""

from __future__ import annotations

from pathgrad.methods.derive import reflected
from pathgrad.ops import linalg, matrix


def matmul(self, other):
    return linalg.matmul(self, other)


def mm(self, other):
    return linalg.mm(self, other)


def bmm(self, other):
    return linalg.bmm(self, other)


def dot(self, other):
    return linalg.dot(self, other)


def outer(self, other):
    return linalg.outer(self, other)


def mv(self, vec):
    return linalg.mv(self, vec)


def vdot(self, other):
    return linalg.vdot(self, other)


def inner(self, other):
    return linalg.inner(self, other)


def kron(self, other):
    return linalg.kron(self, other)


def cross(self, other, dim=None):
    return linalg.cross(self, other, dim)


def dist(self, other, p=2.0):
    return linalg.dist(self, other, p)


def pinverse(self):
    return matrix.pinv(self)


def cholesky(self, upper=False):
    return matrix.cholesky(self, upper=upper)


METHODS = {
    "cholesky_solve": matrix.cholesky_solve,
    "cholesky_inverse": matrix.cholesky_inverse,
    "__matmul__": linalg.matmul,
    "__rmatmul__": reflected(linalg.matmul),
    "matmul": matmul,
    "mm": mm,
    "bmm": bmm,
    "t": linalg.t,
    "dot": dot,
    "outer": outer,
    "mv": mv,
    "vdot": vdot,
    "inner": inner,
    "kron": kron,
    "cross": cross,
    "addmm": linalg.addmm,
    "addmv": linalg.addmv,
    "addr": linalg.addr,
    "baddbmm": linalg.baddbmm,
    "addbmm": linalg.addbmm,
    "matrix_power": linalg.matrix_power,
    "dist": dist,
    "pinverse": pinverse,
    "det": matrix.det,
    "inverse": matrix.inv,
    "matrix_exp": matrix.matrix_exp,
    "logdet": matrix.logdet,
    "slogdet": matrix.slogdet,
    "cholesky": cholesky,
}

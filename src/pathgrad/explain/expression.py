"""Expressions from the command line, parsed safely: Python's `ast`, a whitelist of names,
operators and methods, and an evaluator that walks the tree. User text is never given to
`eval`; anything off the whitelist is a clear error naming it."""

from __future__ import annotations

import ast
import operator
from typing import Any

import numpy as np

from pathgrad.errors import PathgradError


class ExpressionError(PathgradError, ValueError):
    """An expression the command line refuses."""


_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.MatMult: operator.matmul,
    ast.Pow: operator.pow,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}
# functions of pathgrad callable by name, and tensor methods callable after a dot
FUNCTIONS = (
    "tanh sigmoid relu exp log sqrt sin cos abs softmax log_softmax logsumexp sum mean "
    "matmul maximum minimum where square pow neg"
).split()
METHODS = (
    "tanh sigmoid relu exp log sqrt sin cos abs softmax log_softmax logsumexp sum mean "
    "pow t transpose reshape square max min"
).split()
ATTRIBUTES = ("T",)


def _functions() -> dict[str, Any]:
    import pathgrad as pg
    import pathgrad.nn.functional as F

    table = {name: getattr(pg, name) for name in FUNCTIONS}
    table["cross_entropy"] = F.cross_entropy
    table["mse_loss"] = F.mse_loss
    return table


def parse_shape(text: str) -> tuple[str, tuple[int, ...]]:
    """`a=2x3` -> ("a", (2, 3)); `c=2` -> ("c", (2,)); `s=1` is a 1-element vector."""
    name, sep, dims = text.partition("=")
    if not sep or not name.isidentifier():
        raise ExpressionError(f"--shape {text!r}: expected NAME=2x3")
    try:
        shape = tuple(int(d) for d in dims.lower().split("x"))
    except ValueError:
        raise ExpressionError(f"--shape {text!r}: sizes must be whole numbers, as 2x3") from None
    if any(d <= 0 for d in shape):
        raise ExpressionError(f"--shape {text!r}: sizes must be positive")
    return name, shape


class _Evaluator:
    def __init__(self, variables: dict[str, Any]) -> None:
        self.variables = variables
        self.functions = _functions()

    def run(self, source: str) -> tuple[Any, dict[str, Any]]:
        """Statements `name = expr` separated by `;` or newlines, then one expression."""
        try:
            tree = ast.parse(source, mode="exec")
        except SyntaxError as error:
            raise ExpressionError(f"cannot parse {source!r}: {error.msg}") from None
        if not tree.body or not isinstance(tree.body[-1], ast.Expr):
            raise ExpressionError("the expression must end with a value, as `(a @ b + c).sum()`")
        named = {}
        for statement in tree.body[:-1]:
            if not (
                isinstance(statement, ast.Assign)
                and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
            ):
                raise ExpressionError(
                    f"only `name = expression` statements may come before the result, not "
                    f"{type(statement).__name__}"
                )
            name = statement.targets[0].id
            self._check_name(name)
            value = self.eval(statement.value)
            self.variables[name] = value
            named[name] = value
        return self.eval(tree.body[-1].value), named

    @staticmethod
    def _check_name(name: str) -> None:
        if name.startswith("_"):
            raise ExpressionError(f"names starting with an underscore are refused: {name!r}")

    def eval(self, node: ast.AST) -> Any:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            raise ExpressionError(f"{_describe(node)} is not allowed in an expression")
        return method(node)

    def _Constant(self, node: ast.Constant) -> Any:
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float, str)):
            raise ExpressionError(f"the constant {node.value!r} is not allowed")
        return node.value

    def _Name(self, node: ast.Name) -> Any:
        self._check_name(node.id)
        if node.id in self.variables:
            return self.variables[node.id]
        raise ExpressionError(
            f"unknown name {node.id!r}: give its shape with --shape {node.id}=2x2"
            + (" (functions are called, as tanh(x))" if node.id in self.functions else "")
        )

    def _BinOp(self, node: ast.BinOp) -> Any:
        rule = _BINARY.get(type(node.op))
        if rule is None:
            raise ExpressionError(f"the operator {type(node.op).__name__} is not allowed")
        return rule(self.eval(node.left), self.eval(node.right))

    def _UnaryOp(self, node: ast.UnaryOp) -> Any:
        rule = _UNARY.get(type(node.op))
        if rule is None:
            raise ExpressionError(f"the operator {type(node.op).__name__} is not allowed")
        return rule(self.eval(node.operand))

    def _Attribute(self, node: ast.Attribute) -> Any:
        if node.attr.startswith("_"):
            raise ExpressionError(f"attribute {node.attr!r}: underscore names are refused")
        if node.attr not in ATTRIBUTES:
            raise ExpressionError(f"attribute {node.attr!r} is not allowed (only .T)")
        return getattr(self.eval(node.value), node.attr)

    def _Call(self, node: ast.Call) -> Any:
        args = [self.eval(a) for a in node.args]
        kwargs = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise ExpressionError("**keyword unpacking is not allowed")
            self._check_name(keyword.arg)
            kwargs[keyword.arg] = self.eval(keyword.value)
        function = node.func
        if isinstance(function, ast.Name):
            if function.id not in self.functions:
                raise ExpressionError(
                    f"{function.id}() is not an allowed function; allowed: "
                    f"{', '.join(sorted(self.functions))}"
                )
            return self.functions[function.id](*args, **kwargs)
        if isinstance(function, ast.Attribute):
            if function.attr.startswith("_"):
                raise ExpressionError(f"method {function.attr!r}: underscore names are refused")
            if function.attr not in METHODS:
                raise ExpressionError(
                    f".{function.attr}() is not an allowed method; allowed: "
                    f"{', '.join(sorted(METHODS))}"
                )
            return getattr(self.eval(function.value), function.attr)(*args, **kwargs)
        raise ExpressionError(f"{_describe(function)} cannot be called")

    def _Tuple(self, node: ast.Tuple) -> Any:
        return tuple(self.eval(e) for e in node.elts)


def _describe(node: ast.AST) -> str:
    names = {
        "Lambda": "a lambda",
        "ListComp": "a comprehension",
        "SetComp": "a comprehension",
        "DictComp": "a comprehension",
        "GeneratorExp": "a generator expression",
        "Import": "an import",
        "ImportFrom": "an import",
        "Subscript": "indexing",
        "Compare": "a comparison",
        "NamedExpr": "an assignment expression",
    }
    return names.get(type(node).__name__, f"a {type(node).__name__} node")


def build(
    source: str, shapes: dict[str, tuple[int, ...]], seed: int = 0
) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """Leaves of the given shapes (float64, values from `seed`), the expression evaluated on
    them under pg.explain.recording(); returns (result, leaves, named intermediates)."""
    import pathgrad as pg
    from pathgrad.explain.derivation import recording

    rng = np.random.default_rng(seed)
    leaves = {
        name: pg.tensor(
            np.round(rng.uniform(-2, 2, size=shape), 2), dtype=pg.float64, requires_grad=True
        )
        for name, shape in shapes.items()
    }
    with recording():
        result, named = _Evaluator(dict(leaves)).run(source)
    if not isinstance(result, pg.Tensor) or result.grad_fn is None:
        raise ExpressionError("the expression does not depend on any input given with --shape")
    return result, leaves, named

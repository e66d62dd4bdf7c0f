"""The matrix form of a gradient, composed from the rules the ops state (`rule=` on each op).

Walking the graph from the output down, each op's rule for an input is its stated formula
with `dL/dout` replaced by the gradient arriving so far and its parameters by the tensors (or
expressions) it was called with: `dL/dout @ b^T` at `a @ b` under `+ c` becomes `dL/dd @ b^T`.
A named tensor is a boundary: below it the gradient is called `dL/d<name>`, as in the seed.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import numpy as np

from pathgrad.autodiff.node import Node
from pathgrad.autodiff.toposort import reverse_topological_order
from pathgrad.tensor import Tensor

# infix ops: format, precedence (higher binds tighter), and whether the right operand needs
# brackets at equal precedence (a - (b + c), a / (b * c))
_INFIX = {
    "add": ("{} + {}", 1, False),
    "sub": ("{} - {}", 1, True),
    "mul": ("{} * {}", 2, False),
    "div": ("{} / {}", 2, True),
    "matmul": ("{} @ {}", 2, True),
    "pow": ("{}^{}", 4, False),
}
_ATOM = 9
_TRANSPARENT = {"broadcast_to", "to", "clone"}
_IDENTIFIER = re.compile(r"(?<![\w.])([A-Za-z_]\w*)(?![\w(])")


def _parenthesize(text: str) -> str:
    """Wrap an expression with an operator at its top level, so it substitutes safely."""
    if re.fullmatch(r"-?[\w.]+(\([^()]*\))?(\^\w+)?|\(.*\)", text) or " " not in text:
        return text
    return f"({text})"


def _rule_statements(rule: str) -> dict[str, str]:
    statements = {}
    for part in rule.split("; "):
        if part.startswith("dL/d") and " = " in part:
            left, right = part.split(" = ", 1)
            statements[left[4:].removesuffix("[i]")] = right
    return statements


def _parameters(definition: Any) -> list[str]:
    return list(inspect.signature(definition.forward).parameters)


class Formulas:
    """The composed formula of every boundary and input, and the rules used for it."""

    def __init__(self) -> None:
        self.text: dict[str, str] = {}
        self.rules: dict[str, list[str]] = {}
        self.broadcast: dict[str, str] = {}
        self.constants: dict[str, str] = {}

    def add(self, name: str, text: str, rules: list[str]) -> None:
        previous = self.text.get(name)
        self.text[name] = text if previous is None else f"{previous} + {text}"
        known = self.rules.setdefault(name, [])
        known.extend(r for r in rules if r not in known)

    def for_input(self, name: str) -> tuple[str, list[str], str]:
        return self.text.get(name, "0"), self.rules.get(name, []), self.broadcast.get(name, "")


class _Composer:
    def __init__(self, output: Tensor, naming: Any) -> None:
        self.naming = naming
        self.output = output
        self.formulas = Formulas()

    def name_of_node(self, node: Node) -> str | None:
        return self.naming.by_node.get(id(node))

    def display(self, x: Any) -> str:
        """How a value reads in a formula: its name, or the expression that made it."""
        return self._shown(x)[0]

    def _shown(self, x: Any) -> tuple[str, int]:
        if not isinstance(x, Tensor):
            if isinstance(x, (list, tuple)):
                return "[" + ", ".join(self.display(t) for t in x) + "]", _ATOM
            return repr(x), (_ATOM if not isinstance(x, (int, float)) or x >= 0 else 3)
        if x.grad_fn is not None:
            name = self.name_of_node(x.grad_fn)
            return (name, _ATOM) if name is not None else self._expression(x.grad_fn)
        name = self.naming.name_of(x)
        if name is not None:
            return name, _ATOM
        if x._data.size == 1:
            return repr(float(x._data.reshape(-1)[0])), _ATOM
        if x._data.size <= 4:
            return np.array2string(x._data, separator=", "), _ATOM
        return f"<constant {tuple(x.shape)}>", _ATOM

    def expression(self, node: Node) -> str:
        return self._expression(node)[0]

    def _expression(self, node: Node) -> tuple[str, int]:
        args, kwargs = node.inputs
        definition = node.definition
        if node.name in _TRANSPARENT:
            return self._shown(args[0])
        if node.name in _INFIX:
            form, precedence, strict_right = _INFIX[node.name]
            (left, lp), (right, rp) = self._shown(args[0]), self._shown(args[1])
            left = left if lp >= precedence else f"({left})"
            tight = rp > precedence or (rp == precedence and not strict_right)
            return form.format(left, right if tight else f"({right})"), precedence
        if node.name == "neg":
            inner, p = self._shown(args[0])
            return f"-{inner if p >= 3 else f'({inner})'}", 3
        if node.name == "sum":
            inner, p = self._shown(args[0])
            dims = args[1] if len(args) > 1 else kwargs.get("dim")
            call = "" if dims is None else f"dim={dims}"
            return f"{inner if p == _ATOM else f'({inner})'}.sum({call})", _ATOM
        arity = definition.inputs
        tensors = args[0] if arity == "sequence" else args[:arity]
        names = _parameters(definition)
        inner = ", ".join(
            names[i] if _unnamed_constant(t, self.naming) else self.display(t)
            for i, t in enumerate(tensors)
        )
        if arity == "sequence":
            inner = f"[{inner}]"
        extra = [repr(a) for a in args[1 if arity == "sequence" else len(tensors) :]]
        extra += [f"{k}={v!r}" for k, v in kwargs.items()]
        return f"{node.name}({', '.join([inner] + extra)})", _ATOM

    def apply_rule(self, node: Node, position: int, grad: str) -> str:
        args, kwargs = node.inputs
        definition = node.definition
        if node.name == "broadcast_to":
            return _unbroadcast(grad, tuple(args[0].shape), tuple(node.shape))
        if node.name in _TRANSPARENT:
            return grad
        names = _parameters(definition)
        tensor_name = names[0] if definition.inputs == "sequence" else names[position]
        statement = _rule_statements(definition.rule).get(tensor_name)
        if statement is None:
            return f"(the {definition.name} rule for {tensor_name})"
        if node.name == "sum" and grad == "1":
            return "1"
        values = dict(zip(names, args))
        values.update(kwargs)
        placeholder = "\0"

        def substitute(match: re.Match) -> str:
            word = match.group(1)
            if word == "out":
                return _parenthesize(self.expression(node))
            if word in values:
                if _unnamed_constant(values[word], self.naming):
                    self.formulas.constants.setdefault(
                        word,
                        f"{word}: a constant {tuple(values[word].shape)} tensor "
                        f"(the {node.name} op's {word})",
                    )
                    return word
                shown = self.display(values[word])
                return _parenthesize(shown) if isinstance(values[word], Tensor) else shown
            return word

        text = statement.replace("dL/dout", placeholder)
        text = _IDENTIFIER.sub(substitute, text)
        text = text.replace(placeholder, _parenthesize(grad))
        return _simplify(text)

    def compose(self) -> Formulas:
        order, _ = reverse_topological_order([self.output.grad_fn])  # the output first
        arriving: dict[int, list[str]] = {}
        rules: dict[int, list[str]] = {}
        root = self.output.grad_fn
        root_name = self.name_of_node(root)
        arriving[id(root)] = ["1" if self.output._data.size == 1 else f"dL/d{root_name}"]
        rules[id(root)] = []
        for node in order:
            parts = arriving.get(id(node))
            if not parts:
                continue
            grad = " + ".join(parts)
            name = self.name_of_node(node)
            used = rules.get(id(node), [])
            if name is not None and node is not root:
                self.formulas.add(name, grad, used)
                grad, used = f"dL/d{name}", []
            for position, parent in enumerate(node.parents):
                if parent is None:
                    continue
                text = self.apply_rule(node, position, grad)
                stated = f"{node.name}: {node.definition.rule}"
                chain = used + ([stated] if node.name not in _TRANSPARENT else [])
                if node.name == "broadcast_to":
                    self._note_broadcast(node, parent)
                if isinstance(parent, Node):
                    arriving.setdefault(id(parent), []).append(text)
                    known = rules.setdefault(id(parent), [])
                    known.extend(r for r in chain if r not in known)
                else:
                    leaf = self.naming.by_leaf.get(id(parent))
                    if leaf is not None:
                        self.formulas.add(leaf, text, chain)
        return self.formulas

    def _note_broadcast(self, node: Node, parent: Any) -> None:
        source = node.inputs[0][0]
        name = self.display(source)
        dims = _summed_dims(tuple(source.shape), tuple(node.shape))
        where = ", ".join(str(d) for d in dims)
        self.formulas.broadcast[name] = (
            f"{name} {tuple(source.shape)} was broadcast to {tuple(node.shape)} over dim "
            f"{where}, so its gradient is summed over dim {where}"
        )


def _unnamed_constant(x: Any, naming: Any) -> bool:
    return (
        isinstance(x, Tensor)
        and x.grad_fn is None
        and not x.requires_grad
        and x._data.size > 4
        and naming.name_of(x) is None
    )


def _summed_dims(source: tuple, target: tuple) -> list[int]:
    lead = len(target) - len(source)
    return list(range(lead)) + [
        lead + i for i, n in enumerate(source) if n == 1 and target[lead + i] != 1
    ]


def _unbroadcast(grad: str, source: tuple, target: tuple) -> str:
    """sum_to_shape as a person writes it: `dL/dd.sum(dim=0)`."""
    lead = len(target) - len(source)
    kept = [lead + i for i, n in enumerate(source) if n == 1 and target[lead + i] != 1]
    text = _parenthesize(grad)
    if lead:
        dims = tuple(range(lead))
        text = f"{text}.sum(dim={dims[0] if lead == 1 else dims})"
    if kept:
        shifted = tuple(d - lead for d in kept)
        text = f"{text}.sum(dim={shifted[0] if len(shifted) == 1 else shifted}, keepdim=True)"
    return text


def _simplify(text: str) -> str:
    for pattern, replacement in (
        (r"^1 \* ", ""),
        (r" \* 1$", ""),
        (r"^\(1\) \* ", ""),
        (r"^-\(?1\)?$", "-1"),
        (r" \* 1 / ", " / "),
    ):
        text = re.sub(pattern, replacement, text)
    if text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1]
    return text


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def matrix_formulas(output: Tensor, naming: Any) -> Formulas:
    """The composed gradient formula of every named tensor below `output`."""
    return _Composer(output, naming).compose()

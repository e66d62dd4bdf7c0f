"""`pg.viz.draw(tensor)`: the computation graph behind a tensor, through Graphviz.

Each op is a box with its name, output shape and dtype; each leaf an ellipse with its name
(from the caller's variables), shape, dtype and, after backward, the norm of its gradient.
A gradient or saved value with NaN or Inf is drawn in red. The DOT text is built here; the
`graphviz` package and Graphviz's `dot` program turn it into SVG or PNG.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from typing import Any

import numpy as np

from pathgrad.autodiff.node import Node
from pathgrad.autodiff.toposort import reverse_topological_order
from pathgrad.errors import PathgradError
from pathgrad.tensor import Tensor, from_array

MAX_NODES = 200
INSTALL_HINT = (
    "install Graphviz to render it: pip install graphviz, and the dot program "
    "(Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz)"
)


class GraphvizMissing(PathgradError, RuntimeError):
    """The graphviz package or the dot program is not installed."""


def _label(*lines: str) -> str:
    return "\\n".join(line.replace("\\", "\\\\").replace('"', '\\"') for line in lines)


def _finite(array: Any) -> bool:
    return array is None or bool(np.all(np.isfinite(array)))


def _walk(root: Tensor) -> tuple[list[Node], list[Tensor]]:
    """The nodes and leaves behind `root` (the engine's walk), or an error past MAX_NODES."""
    nodes, reached = reverse_topological_order([root.grad_fn])
    leaves = list(reached)
    if len(nodes) + len(leaves) > MAX_NODES:
        raise PathgradError(
            f"viz.draw: the graph has {len(nodes) + len(leaves)} nodes, more than {MAX_NODES}, "
            "more than a picture shows clearly; draw a smaller part (a layer, or the loss of "
            "one example)"
        )
    return nodes, leaves


def to_dot(
    tensor: Tensor,
    names: dict[str, Tensor] | None = None,
    _caller: Any = None,
    _labels: dict[int, str] | None = None,
) -> str:
    """The graph behind `tensor` as DOT text (no Graphviz needed)."""
    if not isinstance(tensor, Tensor) or tensor.grad_fn is None:
        raise PathgradError("viz.draw: the tensor has no graph (it requires no grad, or is a leaf)")
    caller = _caller if _caller is not None else sys._getframe(1).f_locals
    labels: dict[int, str] = dict(_labels or {})
    for name, t in list((names or {}).items()) + list(caller.items()):
        if isinstance(t, Tensor) and not name.startswith("_"):
            labels.setdefault(id(t.grad_fn) if t.grad_fn is not None else id(t), name)
    nodes, leaves = _walk(tensor)
    node_grads = _node_gradients(tensor, nodes, leaves)
    lines = ["digraph pathgrad {", "  rankdir=BT;", '  node [fontname="Helvetica", fontsize=11];']
    for leaf in leaves:
        grad = None if leaf.grad is None else leaf.grad._data
        text = [labels.get(id(leaf), "leaf"), f"{tuple(leaf.shape)} {leaf.dtype}"]
        if grad is not None:
            text.append(f"|grad| = {float(np.linalg.norm(grad.astype(np.float64))):.4g}")
        bad = not _finite(grad) or not _finite(leaf._data)
        color = ', color="red", fontcolor="red"' if bad else ""
        lines.append(f'  t{id(leaf)} [shape=ellipse, label="{_label(*text)}"{color}];')
    for node in nodes:
        text = [node.name, f"{node.shape} {node.dtype}"]
        name = labels.get(id(node))
        if name:
            text.insert(0, name)
        grad = node_grads.get(node)
        if grad is not None:
            text.append(f"|grad| = {float(np.linalg.norm(grad.astype(np.float64))):.4g}")
        bad = not _finite(node.saved_out) or not _finite(grad)
        color = ', color="red", fontcolor="red"' if bad else ""
        lines.append(f'  n{id(node)} [shape=box, label="{_label(*text)}"{color}];')
        for parent in node.parents:
            if isinstance(parent, Node):
                lines.append(f"  n{id(parent)} -> n{id(node)};")
            elif isinstance(parent, Tensor):
                lines.append(f"  t{id(parent)} -> n{id(node)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node_gradients(root: Tensor, nodes: list[Node], leaves: list[Tensor]) -> dict:
    """d(root)/d(each node's output), once backward has run (a leaf has .grad) and kept the
    graph (retain_graph=True): the sweep again, capturing every node. {} otherwise."""
    from pathgrad.autodiff.backprop import backprop
    from pathgrad.backward import wrap_saved_output

    backward_ran = any(leaf.grad is not None for leaf in leaves)
    if not backward_ran or root._data.size != 1 or any(n.vjp is None for n in nodes):
        return {}
    seed = from_array(np.ones(root.shape, dtype=root._data.dtype))
    grads, _ = backprop(
        [root.grad_fn], [seed], wrap_saved_output, retain_graph=True, capture=frozenset(nodes)
    )
    return {node: grads[node]._data for node in nodes if node in grads}


def _render(dot: str, format: str) -> bytes:
    try:
        import graphviz
    except ImportError:
        raise GraphvizMissing(f"viz: the graphviz package is missing; {INSTALL_HINT}") from None
    if shutil.which("dot") is None:
        raise GraphvizMissing(f"viz: Graphviz's dot program is not on PATH; {INSTALL_HINT}")
    return graphviz.Source(dot).pipe(format=format)


class Graph:
    """A drawn graph: `.dot` (text), `.svg()`, `.save(path)`; shows itself in notebooks."""

    def __init__(self, dot: str) -> None:
        self.dot = dot

    def svg(self) -> str:
        return _render(self.dot, "svg").decode("utf-8")

    def _repr_svg_(self) -> str:
        return self.svg()

    def save(self, path: str) -> str:
        """Write SVG, PNG or DOT by the file's suffix, atomically. Without Graphviz, the DOT
        text goes to `<path>.dot` and GraphvizMissing says how to install it."""
        suffix = os.path.splitext(path)[1].lower().lstrip(".")
        if suffix == "dot":
            _write(path, self.dot.encode())
            return path
        if suffix not in ("svg", "png", "pdf"):
            raise ValueError(f"viz: cannot write {path!r}: use .svg, .png, .pdf or .dot")
        try:
            content = _render(self.dot, suffix)
        except GraphvizMissing as missing:
            fallback = os.path.splitext(path)[0] + ".dot"
            _write(fallback, self.dot.encode())
            raise GraphvizMissing(f"{missing}. The DOT text is in {fallback}") from None
        _write(path, content)
        return path


def _write(path: str, content: bytes) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".graph-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(content)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def draw(tensor: Tensor, path: str | None = None, names: dict[str, Tensor] | None = None) -> Graph:
    """Draw the graph behind `tensor`; write it to `path` (.svg, .png, .pdf, .dot) if given:
    `pg.viz.draw(loss, "graph.svg")`; in a notebook, `pg.viz.draw(loss)` shows it."""
    graph = Graph(to_dot(tensor, names, _caller=sys._getframe(1).f_locals))
    if path is not None:
        graph.save(path)
    return graph


def svg_of(tensor: Tensor, labels: dict[int, str] | None = None) -> str:
    """Inline SVG of the graph (raises GraphvizMissing where Graphviz is not installed)."""
    svg = Graph(to_dot(tensor, None, _caller={}, _labels=labels)).svg()
    return svg[svg.index("<svg") :]  # drop the XML prolog and DOCTYPE: it sits inside HTML

"""The HTML page: one self-contained file. Formulas are MathML, which browsers render natively;
the graph is inline SVG; a few lines of script highlight, for a chosen gradient element, the
paths that make it up and the output elements they pass through. Nothing is fetched."""

from __future__ import annotations

import re
from html import escape
from typing import Any

import numpy as np

from pathgrad.explain import symbolic

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; max-width: 60em; color: #222; }
.element { display: inline-block; margin: .2em .6em; padding: .2em .4em; border-radius: 4px; }
.element.highlight { background: #ffe08a; outline: 2px solid #d19a00; }
button.grad { margin: .2em; padding: .3em .6em; background: #f4f4f4; border: 1px solid #bbb;
  border-radius: 4px; cursor: pointer; font-size: 1em; }
button.grad.chosen { background: #cfe3ff; border-color: #3b7ddd; }
.paths { display: none; margin: .4em 0 .8em 1.5em; }
.paths.shown { display: block; }
.path.on { background: #e6f4e6; }
.rule { font-family: monospace; color: #555; }
.ok { color: #17752b; } .bad { color: #b00020; font-weight: bold; }
svg { max-width: 100%; height: auto; }
math { font-size: 1.2em; }
button.grad math { font-size: 1.3em; }
"""

_SCRIPT = """
document.querySelectorAll('button.grad').forEach(function (button) {
  button.addEventListener('click', function () {
    document.querySelectorAll('.highlight').forEach(e => e.classList.remove('highlight'));
    document.querySelectorAll('.chosen').forEach(e => e.classList.remove('chosen'));
    document.querySelectorAll('.paths.shown').forEach(e => e.classList.remove('shown'));
    document.querySelectorAll('.path.on').forEach(e => e.classList.remove('on'));
    button.classList.add('chosen');
    button.dataset.touches.split(' ').filter(Boolean).forEach(function (name) {
      var element = document.getElementById('element-' + name);
      if (element) element.classList.add('highlight');
    });
    var paths = document.getElementById('paths-' + button.dataset.target);
    if (paths) {
      paths.classList.add('shown');
      paths.querySelectorAll('.path').forEach(e => e.classList.add('on'));
    }
  });
});
"""


def _math(inner: str, display: bool = False) -> str:
    mode = "block" if display else "inline"
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML" display="{mode}">{inner}</math>'


def _ml(expr: Any) -> str:
    sympy = symbolic.require_sympy()
    return f"<mrow>{sympy.mathml(expr, printer='presentation')}</mrow>"


def _d(element: Any) -> str:
    return _fraction(_ml(element))


_TOKEN = re.compile(r"dL/d(\w+)|([A-Za-z_]\w*)|(\d+(?:\.\d+)?)|(\S)")


def formula_mathml(formula: str) -> str:
    """A composed formula (`dL/dd @ b^T`, `dL/dd.sum(dim=0)`) as MathML tokens: derivatives
    as fractions, `x^T` as a superscript, names as identifiers, the rest as operators."""
    items: list[str] = []
    pending_power = False
    for derivative, name, number, symbol in _TOKEN.findall(formula):
        if derivative:
            item = _d_name(derivative)
        elif name:
            item = f"<mi>{escape(name)}</mi>"
        elif number:
            item = f"<mn>{number}</mn>"
        elif symbol == "^":
            pending_power = bool(items)
            continue
        else:
            item = f"<mo>{escape(symbol)}</mo>"
        if pending_power:
            item = f"<msup>{items.pop()}{item}</msup>"
            pending_power = False
        items.append(item)
    return "<mrow>" + "".join(items) + "</mrow>"


def _d_name(name: str) -> str:
    return _fraction(f"<mi>{escape(name)}</mi>")


def _fraction(denominator: str) -> str:
    partial = "<mo>&#x2202;</mo>"
    return f"<mfrac><mrow>{partial}<mi>L</mi></mrow><mrow>{partial}{denominator}</mrow></mfrac>"


def _key(symbol: Any) -> str:
    return str(symbol).replace(",", "-")


def build(explanation: Any, page: bool) -> str:
    from pathgrad.explain.render import _expression_of, _shape

    parts = [f"<h1>{escape(explanation.output)} = {escape(_expression_of(explanation))}</h1>"]
    for step in explanation.steps:
        parts.append(f"<h2>{escape(step.name)} from {escape(', '.join(step.inputs))}</h2><div>")
        for index in np.ndindex(*step.shape):
            symbol = step.symbols[index]
            parts.append(
                f'<span class="element" id="element-{escape(_key(symbol))}">'
                + _math(f"{_ml(symbol)}<mo>=</mo>{_ml(step.expressions[index])}")
                + "</span>"
            )
        parts.append("</div>")
    parts.append("<p>Chain rule: multiply along a path, sum across paths. Choose an element.</p>")
    for derivation in explanation.inputs:
        parts.append(f"<h2>dL/d{escape(derivation.name)} ({_shape(derivation.shape)})</h2>")
        parts.append("<div>")
        for element in derivation.elements:
            touches = " ".join(_key(p.element) for p in element.paths)
            parts.append(
                f'<button class="grad" data-target="{escape(_key(element.symbol))}" '
                f'data-touches="{escape(touches)}" id="grad-{escape(_key(element.symbol))}">'
                + _math(_d(element.symbol))
                + "</button>"
            )
        parts.append("</div>")
        for element in derivation.elements:
            terms = []
            for path in element.paths:
                factor = "" if path.partial == 1 else f"<mo>&#x22C5;</mo>{_ml(path.partial)}"
                terms.append(
                    f'<mrow class="path" data-via="{escape(_key(path.element))}">'
                    f"{_d(path.element)}{factor}</mrow>"
                )
            body = "<mo>+</mo>".join(terms) or "<mn>0</mn>"
            parts.append(
                f'<div class="paths" id="paths-{escape(_key(element.symbol))}">'
                + _math(f"{_d(element.symbol)}<mo>=</mo>{body}", display=True)
                + f"<p>= {element.value:.6g} (engine: {element.engine:.6g})</p></div>"
            )
        verdict = (
            '<span class="ok">agrees</span>'
            if derivation.agree
            else '<span class="bad">DIFFERS</span>'
        )
        matrix = f"{_d_name(derivation.name)}<mo>=</mo>{formula_mathml(derivation.formula)}"
        parts.append(f"<p>Matrix form: {_math(matrix)}</p>")
        if derivation.broadcast:
            parts.append(f"<p>{escape(derivation.broadcast)}</p>")
        for rule in derivation.rules:
            parts.append(f'<p class="rule">{escape(rule)}</p>')
        parts.append(
            f"<p>Check: the sum across paths {verdict} with the engine's gradient "
            f"(largest difference {derivation.largest_difference:.3g}).</p>"
        )
    for note in explanation.constants:
        parts.append(f"<p>where {escape(note)}</p>")
    svg = _graph_svg(explanation)
    if svg:
        parts.append("<h2>The graph</h2>" + svg)
    body = "\n".join(parts)
    if not page:
        return f"<div class='pathgrad-explain'><style>{_STYLE}</style>{body}</div>"
    title = escape(f"{explanation.output}: pathgrad explain")
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title}</title><style>{_STYLE}</style></head>\n<body>\n{body}\n"
        f"<script>{_SCRIPT}</script>\n</body></html>\n"
    )


def _graph_svg(explanation: Any) -> str:
    """The graph as inline SVG, where Graphviz's dot is installed ('' where it is not)."""
    from pathgrad.viz.graph import GraphvizMissing, svg_of

    try:
        naming = explanation._naming
        return svg_of(explanation.tensor, {**naming.by_leaf, **naming.by_node})
    except GraphvizMissing:
        return ""

"""An Explanation as plain text, Markdown with LaTeX, or a self-contained HTML page."""

from __future__ import annotations

import os
import re
import tempfile
from typing import Any

import numpy as np

from pathgrad.explain import symbolic


def _plain(expr: Any) -> str:
    sympy = symbolic.require_sympy()
    return sympy.sstr(expr).replace("**", "^")


def _factor(expr: Any) -> str:
    text = _plain(expr)
    if expr.is_Add or (expr.is_Mul and expr.could_extract_minus_sign()) or text.startswith("-"):
        return f"({text})"
    return text


def _path_sum(element_derivation: Any) -> str:
    """`dL/dd_11 * b_11 + dL/dd_12 * b_12`: one term a path, the partial after the upstream."""
    terms = []
    for path in element_derivation.paths:
        upstream = f"dL/d{path.element}"
        terms.append(upstream if path.partial == 1 else f"{upstream} * {_factor(path.partial)}")
    return " + ".join(terms) if terms else "0"


def _shape(shape: tuple) -> str:
    return "x".join(str(n) for n in shape) if shape else "scalar"


def _chain_needed(explanation: Any, derivation: Any) -> bool:
    """Whether the sum across paths differs from its chain-substituted form."""
    return any(
        path.via != explanation.output or explanation.scalar
        for element in derivation.elements
        for path in element.paths
    )


def text(explanation: Any) -> str:
    lines = []
    output = explanation.output
    out_step = explanation.steps[-1]
    lines.append(f"{output} = {_expression_of(explanation)}   ({output}: {_shape(out_step.shape)})")
    for step in explanation.steps:
        lines.append("")
        lines.append(f"{step.name} from {', '.join(step.inputs)} ({', '.join(step.ops)}):")
        for index in np.ndindex(*step.shape):
            lines.append(f"  {step.symbols[index]} = {_plain(step.expressions[index])}")
    if not explanation.scalar:
        elements = ", ".join(str(s) for s in out_step.symbols.reshape(-1))
        lines.append("")
        lines.append(f"L depends on every element of {output}: L = L({elements})")
    lines.append("chain rule: multiply along a path, sum across paths")
    for name, formula in explanation.chain.items():
        if formula:
            lines.append(f"  dL/d{name} = {formula}")
    for derivation in explanation.inputs:
        lines.append("")
        lines.append(f"dL/d{derivation.name} ({_shape(derivation.shape)})")
        chain = _chain_needed(explanation, derivation)
        for element in derivation.elements:
            touched = [str(p.element) for p in element.paths]
            where = ", ".join(touched) if touched else "no element"
            lines.append(f"  {element.symbol} appears in {where}")
            lines.append(f"    dL/d{element.symbol} = {_path_sum(element)}")
            if chain:
                lines.append(f"      = {_plain(element.total)}")
            lines.append(f"      = {element.value:.6g}   (engine: {element.engine:.6g})")
        lines.append(f"  matrix form: dL/d{derivation.name} = {derivation.formula}")
        if derivation.broadcast:
            lines.append(f"  ({derivation.broadcast})")
        for rule in derivation.rules:
            lines.append(f"  rule  {rule}")
        verdict = "agrees" if derivation.agree else "DIFFERS"
        lines.append(
            f"  check: the sum across paths {verdict} with the engine's gradient on these "
            f"values (largest difference {derivation.largest_difference:.3g})"
        )
    if explanation.constants:
        lines.append("")
        lines.extend(f"where {note}" for note in explanation.constants)
    if explanation.upstream is not None:
        lines.append("")
        values = np.array2string(explanation.upstream, separator=", ")
        lines.append(f"values checked with dL/d{output} = {values}")
    return "\n".join(lines) + "\n"


def _expression_of(explanation: Any) -> str:
    from pathgrad.explain.compose import _Composer

    tensor = explanation.tensor
    return _Composer(tensor, _naming_of(explanation)).expression(tensor.grad_fn)


def _naming_of(explanation: Any) -> Any:
    return explanation._naming


# ---- Markdown with LaTeX


def _latex_symbol(symbol: Any) -> str:
    sympy = symbolic.require_sympy()
    return sympy.latex(symbol)


def _latex_d(element: Any) -> str:
    return rf"\frac{{\partial L}}{{\partial {_latex_symbol(element)}}}"


def _latex(expr: Any, explanation: Any) -> str:
    sympy = symbolic.require_sympy()
    names = {}
    for s in expr.free_symbols:
        if s.name.startswith("dL/d"):
            inner = sympy.Symbol(s.name[4:])
            names[s] = _latex_d(inner)
    return sympy.latex(expr, symbol_names=names)


def _latex_factor(expr: Any, explanation: Any) -> str:
    body = _latex(expr, explanation)
    if expr.is_Add or _plain(expr).startswith("-"):
        return rf"\left({body}\right)"
    return body


def _latex_formula(formula: str) -> str:
    """`dL/dd @ b^T` as LaTeX: derivatives as fractions, the rest as written."""

    def derivative(match: re.Match) -> str:
        name = match.group(1)
        return rf"\frac{{\partial L}}{{\partial {name}}}"

    text = formula.replace("@", r"\,@\,").replace("*", r"\cdot ")
    text = re.sub(r"\.(sum|reshape|transpose|flip|squeeze|T)\b", r".\\mathrm{\1}", text)
    text = re.sub(r"dL/d([A-Za-z]\w*)", derivative, text)
    return text.replace("_", r"\_") if "\\frac" not in text else text


def markdown(explanation: Any) -> str:
    output = explanation.output
    out_step = explanation.steps[-1]
    lines = [f"**{output} = {_expression_of(explanation)}** ({_shape(out_step.shape)})", ""]
    for step in explanation.steps:
        rows = [
            rf"{_latex_symbol(step.symbols[i])} &= {_latex(step.expressions[i], explanation)}"
            for i in np.ndindex(*step.shape)
        ]
        lines.append(f"{step.name} from {', '.join(step.inputs)}:")
        lines.append("")
        lines.append("$$\\begin{aligned} " + r" \\ ".join(rows) + r" \end{aligned}$$")
        lines.append("")
    if not explanation.scalar:
        elements = ", ".join(_latex_symbol(s) for s in out_step.symbols.reshape(-1))
        lines.append(f"Loss depends on all of {output}: $L = L({elements})$")
        lines.append("")
    lines.append("Chain rule: multiply along a path, sum across paths.")
    lines.append("")
    for name, formula in explanation.chain.items():
        if formula:
            lines.append(
                f"$$\\frac{{\\partial L}}{{\\partial {name}}} = {_latex_formula(formula)}$$"
            )
            lines.append("")
    for derivation in explanation.inputs:
        lines.append(f"### $\\partial L / \\partial {derivation.name}$")
        lines.append("")
        chain = _chain_needed(explanation, derivation)
        for element in derivation.elements:
            touched = ", ".join(f"${_latex_symbol(p.element)}$" for p in element.paths)
            lines.append(f"${_latex_symbol(element.symbol)}$ appears in {touched or 'nothing'}:")
            lines.append("")
            terms = []
            for path in element.paths:
                upstream = _latex_d(path.element)
                terms.append(
                    upstream
                    if path.partial == 1
                    else rf"{upstream} \cdot {_latex_factor(path.partial, explanation)}"
                )
            rhs = " + ".join(terms) or "0"
            if chain:
                rhs += " = " + _latex(element.total, explanation)
            lines.append(f"$${_latex_d(element.symbol)} = {rhs}$$")
            lines.append("")
        lines.append(
            f"$$\\Rightarrow \\frac{{\\partial L}}{{\\partial {derivation.name}}} = "
            f"{_latex_formula(derivation.formula)}$$"
        )
        lines.append("")
        if derivation.broadcast:
            lines.append(f"({derivation.broadcast})")
            lines.append("")
        for rule in derivation.rules:
            lines.append(f"- rule `{rule}`")
        verdict = "agrees" if derivation.agree else "**DIFFERS**"
        lines.append(
            f"- check: the sum across paths {verdict} with the engine's gradient "
            f"(largest difference {derivation.largest_difference:.3g})"
        )
        lines.append("")
    lines.extend(f"where {note}" for note in explanation.constants)
    return "\n".join(lines)


def save(explanation: Any, path: str, format: str | None = None) -> None:
    """Write atomically: a temporary file in the same folder, then a rename."""
    format = format or {".md": "markdown", ".html": "html", ".htm": "html"}.get(
        os.path.splitext(path)[1].lower(), "text"
    )
    content = {"text": text, "markdown": markdown, "html": html_page}[format](explanation)
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".explain-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(content)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def html_fragment(explanation: Any) -> str:
    return _html_body(explanation)


def html_page(explanation: Any) -> str:
    return _html_body(explanation, page=True)


def _html_body(explanation: Any, page: bool = False) -> str:
    from pathgrad.explain.page import build

    return build(explanation, page)

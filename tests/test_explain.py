"""pg.explain reproduces the seed derivation (issue 15): golden statements and golden files,
checks of every element against the engine, limits, check_grad and graph drawing."""

from __future__ import annotations

import os
import pathlib
import shutil

import numpy as np
import pytest

import pathgrad as pg
import pathgrad.nn.functional as F

sympy = pytest.importorskip("sympy", reason="pg.explain needs SymPy (extra: explain)")

GOLDEN = pathlib.Path(__file__).parent / "golden"
UPDATE = os.environ.get("PATHGRAD_UPDATE_GOLDEN") == "1"


def _f64(values, grad=True):
    return pg.tensor(values, dtype=pg.float64, requires_grad=grad)


def seed_explanation():
    a = _f64([[1.0, 2.0], [3.0, 4.0]])
    b = _f64([[0.5, -1.0], [2.0, 0.25]])
    c = _f64([0.1, -0.2])
    with pg.explain.recording():
        d = a @ b + c
    return pg.explain(d, wrt=[a, b, c], grad_output=[[1.0, -2.0], [0.5, 3.0]])


def softmax_explanation():
    x = _f64([0.5, -1.0, 2.0])
    with pg.explain.recording():
        s = x.softmax(0)
    return pg.explain(s, wrt=[x], grad_output=[1.0, 0.0, -1.0])


def cross_entropy_explanation():
    logits = _f64([[1.0, 2.0, 0.5], [0.0, -1.0, 1.5]])
    target = pg.tensor([0, 2])
    with pg.explain.recording():
        loss = F.cross_entropy(logits, target)
    return pg.explain(loss, wrt=[logits])


def broadcast_product_explanation():
    u = _f64([[2.0], [-1.0]])
    v = _f64([0.5, 1.5, -3.0])
    with pg.explain.recording():
        p = u * v
        total = p.sum()
    return pg.explain(total, wrt=[u, v])


def test_seed_statements():
    text = seed_explanation().text()
    assert "d_11 = a_11*b_11 + a_12*b_21 + c_1" in text
    assert "a_11 appears in d_11, d_12\n" in text
    assert "dL/da_11 = dL/dd_11 * b_11 + dL/dd_12 * b_12\n" in text
    assert "dL/da_12 = dL/dd_11 * b_21 + dL/dd_12 * b_22\n" in text
    assert "dL/da_21 = dL/dd_21 * b_11 + dL/dd_22 * b_12\n" in text
    assert "dL/da_22 = dL/dd_21 * b_21 + dL/dd_22 * b_22\n" in text
    assert "matrix form: dL/da = dL/dd @ b^T\n" in text
    assert "matrix form: dL/db = a^T @ dL/dd\n" in text
    assert "dL/dc_1 = dL/dd_11 + dL/dd_21\n" in text
    assert "dL/dc_2 = dL/dd_12 + dL/dd_22\n" in text
    assert "matrix form: dL/dc = dL/dd.sum(dim=0)\n" in text
    assert "DIFFERS" not in text


def test_seed_values_match_the_engine_element_by_element():
    explanation = seed_explanation()
    upstream = np.array([[1.0, -2.0], [0.5, 3.0]])
    A = np.array([[1.0, 2.0], [3.0, 4.0]])
    B = np.array([[0.5, -1.0], [2.0, 0.25]])
    expected = {"a": upstream @ B.T, "b": A.T @ upstream, "c": upstream.sum(0)}
    for derivation in explanation.inputs:
        got = np.array([e.value for e in derivation.elements]).reshape(derivation.shape)
        np.testing.assert_allclose(got, expected[derivation.name], rtol=1e-12)
        assert derivation.agree


CASES = {
    "seed": seed_explanation,
    "softmax": softmax_explanation,
    "cross_entropy": cross_entropy_explanation,
    "broadcast_product": broadcast_product_explanation,
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_golden_files(name, fmt):
    explanation = CASES[name]()
    content = explanation.text() if fmt == "text" else explanation.markdown()
    path = GOLDEN / f"explain_{name}.{'txt' if fmt == 'text' else 'md'}"
    if UPDATE:
        path.write_text(content)
    assert content == path.read_text(), f"{path.name} changed (PATHGRAD_UPDATE_GOLDEN=1 rewrites)"
    assert explanation.agree


def test_chain_multiplies_along_paths():
    a = _f64([[1.0, 2.0], [3.0, 4.0]])
    b = _f64([[0.5, -1.0], [2.0, 0.25]])
    c = _f64([0.1, -0.2])
    with pg.explain.recording():
        d = a @ b + c
        L = d.tanh().sum()
    explanation = pg.explain(L, wrt=[a, c])
    text = explanation.text()
    assert "dL/dd = 1 - tanh(d)^2" in text
    assert "= b_11*(1 - tanh(d_11)^2) + b_12*(1 - tanh(d_12)^2)" in text
    assert explanation.agree


def test_a_rule_error_shows_as_a_disagreement(monkeypatch):
    a = _f64([[1.0, 2.0], [3.0, 4.0]])
    with pg.explain.recording():
        y = a.tanh()
    definition = pg.REGISTRY["tanh"]
    forward = definition.forward

    def wrong(x):
        out, vjp = forward(x)
        return out, lambda grad, out: vjp(grad, out) * 1.001

    monkeypatch.setattr(definition, "forward", wrong)
    with pg.explain.recording():
        y = a.tanh()
    explanation = pg.explain(y, wrt=[a])
    assert not explanation.agree and "DIFFERS" in explanation.text()


def test_notebook_reprs():
    explanation = seed_explanation()
    assert explanation._repr_markdown_().startswith("**d = a @ b + c**")
    assert "<math" in explanation._repr_html_()


def test_refuses_big_tensors_with_the_limit():
    x = _f64(np.ones((7, 7)))
    with pg.explain.recording():
        y = (x * 2).sum()
    with pytest.raises(ValueError, match="legible up to 36 elements"):
        pg.explain(y, wrt=[x])


def test_refuses_a_graph_built_without_recording():
    x = _f64([1.0, 2.0])
    y = (x * x).sum()
    with pytest.raises(ValueError, match="pg.explain.recording"):
        pg.explain(y, wrt=[x])


def test_refuses_too_many_ops():
    x = _f64([1.0, 2.0])
    with pg.explain.recording():
        y = x
        for _ in range(50):
            y = y * 1.0001
    with pytest.raises(ValueError, match="legible up to 40"):
        pg.explain(y.sum(), wrt=[x])


def test_save_writes_each_format(tmp_path):
    explanation = seed_explanation()
    for suffix, marker in ((".txt", "dL/da_11"), (".md", "$$"), (".html", "<math")):
        path = tmp_path / f"seed{suffix}"
        explanation.save(str(path))
        assert marker in path.read_text()


def test_check_grad_grades_and_names_the_shape_mistake():
    x = pg.randn(4, 3, dtype=pg.float64)
    b1 = pg.randn(3, dtype=pg.float64, requires_grad=True)
    (x + b1).pow(2).sum().backward()
    right = 2 * (x + b1).detach().sum(0)
    assert pg.check_grad("db1", right, b1).ok
    unsummed = pg.check_grad("db1", 2 * (x + b1).detach(), b1)
    assert not unsummed.ok and "summed over it" in str(unsummed) and "(4, 3)" in str(unsummed)
    off = right.numpy().copy()
    off[1] += 0.5
    graded = pg.check_grad("db1", off, b1)
    assert not graded.approximate and graded.differing == [(1,)]
    table = pg.check_grads([("right", right, b1), ("off", off, b1)])
    assert table.endswith("1 of 2 gradients agree with the engine")


def test_graph_dot_names_ops_shapes_and_flags_nan():
    w = _f64([[1.0, 2.0], [3.0, 4.0]])
    x = _f64([[1.0, np.nan]], grad=False)
    loss = (x @ w).tanh().sum()
    loss.backward()
    dot = pg.viz.to_dot(loss)
    assert "matmul" in dot and "tanh" in dot and "(1, 2) float64" in dot
    assert "|grad| = " in dot and 'color="red"' in dot


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_draw_writes_svg_and_png(tmp_path):
    pytest.importorskip("graphviz")
    w = _f64([[1.0, 2.0], [3.0, 4.0]])
    loss = (w * 2).sum()
    graph = pg.viz.draw(loss, str(tmp_path / "g.svg"))
    assert (tmp_path / "g.svg").read_text().lstrip().startswith("<?xml")
    pg.viz.draw(loss, str(tmp_path / "g.png"))
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    assert "<svg" in graph._repr_svg_()


def test_draw_without_dot_writes_the_dot_text_and_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    w = _f64([1.0, 2.0])
    loss = (w * 2).sum()
    with pytest.raises(pg.viz.GraphvizMissing, match="apt-get install graphviz"):
        pg.viz.draw(loss, str(tmp_path / "g.svg"))
    assert "digraph" in (tmp_path / "g.dot").read_text()


def test_refuses_a_graph_through_an_op_sympy_cannot_express():
    a = _f64([[2.0, 1.0], [1.0, 3.0]])
    with pg.explain.recording():
        values = pg.linalg.eigvalsh(a).sum()
    with pytest.raises(ValueError, match="eigh_values.*no closed form"):
        pg.explain(values, wrt=[a])


def test_draw_refuses_a_graph_too_big_to_read():
    x = _f64([1.0])
    y = x
    for _ in range(210):
        y = y * 1.0001
    with pytest.raises(pg.errors.PathgradError, match="more than 200"):
        pg.viz.to_dot(y)


def test_explain_without_sympy_says_how_to_install(monkeypatch):
    import builtins

    from pathgrad.explain import symbolic

    real_import = builtins.__import__

    def no_sympy(name, *args, **kwargs):
        if name == "sympy":
            raise ImportError("no sympy")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(symbolic, "sympy", None)
    monkeypatch.setattr(builtins, "__import__", no_sympy)
    x = _f64([1.0])
    with pg.explain.recording():
        y = (x * 2).sum()
    with pytest.raises(ImportError, match=r"pip install 'pathgrad\[explain\]'"):
        pg.explain(y, wrt=[x])


def test_graph_dot_shows_each_nodes_gradient_norm_after_backward_and_flags_inf():
    w = _f64([0.0, 4.0])
    inner = w.sqrt()
    loss = inner.sqrt().sum()
    loss.backward(retain_graph=True)
    dot = pg.viz.to_dot(loss)
    inner_line = next(line for line in dot.splitlines() if "inner" in line)
    assert "|grad| = inf" in inner_line and 'color="red"' in inner_line
    loss_line = next(line for line in dot.splitlines() if "loss" in line and "label" in line)
    assert "|grad| = 1" in loss_line and "red" not in loss_line

"""`pathgrad explain` and `pathgrad graph`: the derivation from the command line, with
expressions parsed safely (issue 15, item 7)."""

from __future__ import annotations

import shutil

import pytest

from pathgrad.cli.main import main

pytest.importorskip("sympy", reason="pathgrad explain needs SymPy (extra: explain)")

SEED = ["a @ b + c", "--shape", "a=2x2", "--shape", "b=2x2", "--shape", "c=2"]


def test_explain_prints_the_seed_derivation(capsys):
    assert main(["explain", *SEED]) == 0
    text = capsys.readouterr().out
    assert "dL/da_11 = dL/dout_11 * b_11 + dL/dout_12 * b_12" in text
    assert "matrix form: dL/dc = dL/dout.sum(dim=0)" in text


def test_assignments_name_the_steps(capsys):
    assert main(["explain", "d = a @ b + c; d", *SEED[1:]]) == 0
    assert "dL/dc_1 = dL/dd_11 + dL/dd_21" in capsys.readouterr().out


@pytest.mark.parametrize("fmt, marker", [("markdown", "$$"), ("html", "<math")])
def test_formats(capsys, fmt, marker):
    assert main(["explain", *SEED, "--format", fmt]) == 0
    assert marker in capsys.readouterr().out


def test_writes_a_file(tmp_path):
    path = tmp_path / "seed.html"
    assert main(["explain", *SEED, "-o", str(path)]) == 0
    assert path.read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    "expression, message",
    [
        ("a.__class__", "underscore names are refused"),
        ("().__class__.__bases__", "underscore names are refused"),
        ("__import__('os').system('true')", ".system() is not an allowed method"),
        ("__import__('os')", "__import__() is not an allowed function"),
        ("open('/etc/passwd')", "open() is not an allowed function"),
        ("[x for x in a]", "a comprehension is not allowed"),
        ("(lambda: a)()", "lambda"),
        ("import os; a", "only `name = expression` statements"),
        ("a.numpy()", ".numpy() is not an allowed method"),
        ("a[0]", "indexing is not allowed"),
        ("a +", "cannot parse"),
        ("b * 2", "unknown name 'b'"),
        ("a.sum(**{'dim': 0})", "keyword unpacking"),
    ],
)
def test_refuses_unsafe_or_unknown_expressions(capsys, expression, message):
    assert main(["explain", expression, "--shape", "a=2"]) == 2
    assert message in capsys.readouterr().err


def test_refuses_big_shapes_with_the_limit(capsys):
    assert main(["explain", "a.sum()", "--shape", "a=7x7"]) == 2
    assert "legible up to 36 elements" in capsys.readouterr().err


def test_bad_shape_text(capsys):
    assert main(["explain", "a.sum()", "--shape", "a=2xq"]) == 2
    assert "whole numbers" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_graph_draws_svg(tmp_path):
    pytest.importorskip("graphviz")
    path = tmp_path / "graph.svg"
    args = ["graph", "tanh(x @ w + b).sum()", "--shape", "x=2x3", "--shape", "w=3x2"]
    assert main([*args, "--shape", "b=2", "-o", str(path)]) == 0
    svg = path.read_text()
    assert "<svg" in svg and "matmul" in svg and "tanh" in svg

"""`pathgrad demo`: the seed derivation, d = a @ b + c, computed by the engine and by hand."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

import pathgrad as pg


def _show(name: str, array: np.ndarray) -> str:
    body = np.array2string(array, precision=4, suppress_small=True, prefix=" " * (len(name) + 3))
    return f"{name} = {body}"


def demo(rows: int, inner: int, cols: int, seed: int, out=sys.stdout) -> bool:
    """Run the seed example, print engine gradients beside the closed forms; True if they agree."""
    pg.manual_seed(seed)
    a = pg.randn(rows, inner, dtype=pg.float64, requires_grad=True)
    b = pg.randn(inner, cols, dtype=pg.float64, requires_grad=True)
    c = pg.randn(cols, dtype=pg.float64, requires_grad=True)
    d = a @ b + c  # c is broadcast over the rows
    upstream = pg.randn(rows, cols, dtype=pg.float64)  # dL/dd, for L = sum(dL/dd * d)
    (d * upstream).sum().backward()

    g, A, B = upstream.numpy(), a.numpy(), b.numpy()
    closed_forms = {
        "dL/da": ("dL/dd @ b.T", a.grad.numpy(), g @ B.T),
        "dL/db": ("a.T @ dL/dd", b.grad.numpy(), A.T @ g),
        "dL/dc": ("(dL/dd).sum(axis=0)", c.grad.numpy(), g.sum(axis=0)),
    }
    print(
        f"d = a @ b + c with a {a.shape}, b {b.shape}, c {c.shape} broadcast over the rows",
        file=out,
    )
    print(f"L = sum(dL/dd * d), seed {seed}", file=out)
    print(_show("dL/dd", g), file=out)
    agree = True
    for name, (formula, engine, by_hand) in closed_forms.items():
        same = bool(np.allclose(engine, by_hand, rtol=1e-12, atol=1e-12))
        agree &= same
        print(f"\n{name}  engine vs {formula}: {'agree' if same else 'DIFFER'}", file=out)
        print(_show("engine ", engine), file=out)
        print(_show("formula", by_hand), file=out)
    verdict = "all gradients agree with the derivation" if agree else "gradients DIFFER"
    print(f"\n{verdict}", file=out)
    return agree


def _size(text: str) -> int:
    """A dimension from the command line: refused by argparse's usage message, not a traceback."""
    try:
        size = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if size < 0:
        raise argparse.ArgumentTypeError(f"{size} is negative; sizes are 0 or more")
    return size


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line (and exit status 2)."""

    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text} must be positive")
        return value

    return parse


def _fraction(text: str) -> float:
    value = _positive(float)(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"{text} must be between 0 and 1")
    return value


def _parser() -> argparse.ArgumentParser:
    from pathgrad.cli.models import MODELS

    parser = _Parser(prog="pathgrad", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    demo_parser = commands.add_parser("demo", help="the seed derivation, d = a @ b + c, checked")
    demo_parser.add_argument("--rows", type=_size, default=2)
    demo_parser.add_argument("--inner", type=_size, default=2)
    demo_parser.add_argument("--cols", type=_size, default=2)
    demo_parser.add_argument("--seed", type=int, default=0)

    train = commands.add_parser(
        "train",
        help="train a character-level language model on a text file (one item per line)",
        description="Train a character-level language model (the makemore series') on a text "
        "file with one item per line; without --data, on the names shipped with pathgrad.",
    )
    train.add_argument("--data", help="text file, one item per line (default: the names)")
    train.add_argument("--model", choices=MODELS, default="mlp")
    train.add_argument("--out", help="output folder (default: runs/MODEL)")
    train.add_argument("--steps", type=_positive(int), help="total steps (model's default)")
    train.add_argument("--batch-size", type=_positive(int), default=32)
    train.add_argument("--lr", type=_positive(float), help="learning rate (model's default)")
    train.add_argument("--optimizer", choices=("sgd", "adam", "adamw"))
    train.add_argument(
        "--schedule",
        choices=("step", "cosine", "constant"),
        help="step: lr x 0.1 at --decay-at of the steps",
    )
    train.add_argument("--decay-at", type=_fraction, help="fraction of the steps (step schedule)")
    train.add_argument("--seed", type=int, default=42)
    train.add_argument("--eval-every", type=_positive(int), help="steps between validations")
    for name in ("context", "embed", "hidden", "layers", "heads"):
        train.add_argument(f"--{name}", type=_positive(int), help=f"model size: {name}")
    train.add_argument("--resume", action="store_true", help="continue the run in --out")
    train.add_argument(
        "--diagnostics",
        action="store_true",
        help="also plot activations, gradients and update-to-data ratios",
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument(
        "--eager",
        action="store_true",
        help="run every step eagerly instead of tracing it once and replaying it (pg.compile)",
    )

    sample = commands.add_parser("sample", help="print items drawn from a trained model")
    sample.add_argument("--checkpoint", required=True, help="a training run's output folder")
    sample.add_argument("-n", type=_positive(int), default=20, help="how many")
    sample.add_argument("--seed", type=int, help="repeatable draws")
    sample.add_argument("--temperature", type=_positive(float), default=1.0)
    sample.add_argument("--prefix", default="", help="start every item with these characters")

    explain = commands.add_parser(
        "explain",
        help="derive every input's gradient of an expression, element by element",
        description="Derive d(result)/d(input) element by element, as the seed derivation "
        "does, for an expression of pathgrad ops: "
        'pathgrad explain "a @ b + c" --shape a=2x2 --shape b=2x2 --shape c=2. Name steps '
        'with assignments: "d = a @ b + c; tanh(d).sum()".',
    )
    explain.add_argument("expression")
    explain.add_argument("--shape", action="append", default=[], help="NAME=2x3, per input")
    explain.add_argument("--format", choices=("text", "markdown", "html"), default=None)
    explain.add_argument("-o", "--output", help="write to this file (format by its suffix)")
    explain.add_argument("--seed", type=int, default=0, help="the inputs' values")

    graph = commands.add_parser(
        "graph",
        help="draw the computation graph of an expression (SVG, PNG or DOT)",
        description='pathgrad graph "tanh(x @ w + b).sum()" --shape x=2x3 --shape w=3x2 '
        "--shape b=2 -o graph.svg",
    )
    graph.add_argument("expression")
    graph.add_argument("--shape", action="append", default=[], help="NAME=2x3, per input")
    graph.add_argument("-o", "--output", required=True, help=".svg, .png, .pdf or .dot")
    graph.add_argument("--seed", type=int, default=0)
    return parser


def _show_the_work(args: argparse.Namespace) -> int:
    from pathgrad.errors import PathgradError
    from pathgrad.explain.expression import build, parse_shape

    try:
        shapes = dict(parse_shape(text) for text in args.shape)
        result, leaves, named = build(args.expression, shapes, args.seed)
        if args.command == "graph":
            from pathgrad.viz.graph import Graph, to_dot

            Graph(to_dot(result, {**leaves, **named}, _caller={})).save(args.output)
            print(f"wrote {args.output}")
            return 0
        from pathgrad.explain.derivation import explain

        explanation = explain(result, wrt=leaves, names=named, caller_names=False)
        if args.output:
            explanation.save(args.output, args.format)
            print(f"wrote {args.output}")
        else:
            render = {"markdown": explanation.markdown, "html": explanation.html}
            print(render.get(args.format, explanation.text)(), end="")
        return 0 if explanation.agree else 1
    except (PathgradError, ImportError) as error:
        print(f"pathgrad {args.command}: error: {error}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "demo":
        return 0 if demo(args.rows, args.inner, args.cols, args.seed) else 1
    if args.command in ("explain", "graph"):
        return _show_the_work(args)
    from pathgrad.cli import charlm
    from pathgrad.cli.train import JobError, sample_command, train

    try:
        return train(args) if args.command == "train" else sample_command(args)
    except (JobError, charlm.DataError) as error:
        print(f"pathgrad {args.command}: error: {error}", file=sys.stderr)
        return 1

"""`pathgrad demo`: the seed derivation, d = a @ b + c, computed by the engine and by hand."""

from __future__ import annotations

import argparse
import sys

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pathgrad", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="the seed derivation, d = a @ b + c, checked")
    demo_parser.add_argument("--rows", type=_size, default=2)
    demo_parser.add_argument("--inner", type=_size, default=2)
    demo_parser.add_argument("--cols", type=_size, default=2)
    demo_parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "demo":
        return 0 if demo(args.rows, args.inner, args.cols, args.seed) else 1
    return 2

"""Per-op overhead: a chain of 1,000 elementwise ops on a 4x4 float32 tensor, forward and
backward, in microseconds per op: pathgrad, PyTorch eager and hand-written NumPy (the forward
and its hand-derived backward), side by side in one run, and HIPS autograd and MyGrad where
they are installed (`pip install '.[bench]'`).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_overhead.py --threads 1

The main chain alternates `x * 1.000001` and `x + 0.5` (one NumPy call each way, like the
hand-written baseline); a second chain of tanh/exp-like ops is reported for transparency.
"""

import sys

from _common import header, interleaved_medians, load_torch, pin_threads

THREADS = pin_threads(sys.argv)

import numpy as np  # noqa: E402

import pathgrad as pg  # noqa: E402


def arithmetic_chain(x, length):
    for _ in range(length // 2):
        x = x * 1.000001
        x = x + 0.5
    return x


def smooth_chain(x, length):
    for _ in range(length // 2):
        x = (x * 0.5).tanh()
    return x


def numpy_by_hand(data, length):
    """The same arithmetic chain, forward and its backward written by hand in NumPy."""

    def run():
        x = data
        for _ in range(length // 2):
            x = x * 1.000001
            x = x + 0.5
        grad = np.ones_like(x)
        for _ in range(length // 2):
            grad = grad * 1  # d(x + 0.5) = 1
            grad = grad * 1.000001

    return run


def hips_autograd_run(data, chain, length):
    try:
        import autograd
    except ImportError:
        return None
    gradient = autograd.grad(lambda x: chain(x, length).sum())
    return lambda: gradient(data.astype(np.float64))  # HIPS autograd differentiates float64


def mygrad_run(data, chain, length):
    try:
        import mygrad
    except ImportError:
        return None

    def run():
        x = mygrad.tensor(data)
        chain(x, length).sum().backward()

    return run


def library_run(lib, make, chain, length):
    def run():
        x = make()
        chain(x, length).sum().backward()

    return run


def main() -> None:
    quick = "--quick" in sys.argv
    length = 20 if quick else 1000
    repeats = 3 if quick else 41
    header(f"chain of {length} elementwise ops on a 4x4 float32 tensor, forward + backward")
    torch = load_torch(THREADS)
    data = np.random.default_rng(0).standard_normal((4, 4)).astype(np.float32)

    def make_pg():
        return pg.tensor(data, requires_grad=True)

    for title, chain in (
        ("x * 1.000001, x + 0.5", arithmetic_chain),
        ("(x * 0.5).tanh()", smooth_chain),
    ):
        runs = {"pathgrad": library_run(pg, make_pg, chain, length)}
        if torch is not None:
            runs["torch"] = library_run(
                torch, lambda: torch.tensor(data, requires_grad=True), chain, length
            )
        if chain is arithmetic_chain:
            runs["numpy by hand"] = numpy_by_hand(data, length)
            for name, run in (
                ("HIPS autograd", hips_autograd_run(data, chain, length)),
                ("MyGrad", mygrad_run(data, chain, length)),
            ):
                if run is not None:
                    runs[name] = run
        medians = interleaved_medians(runs, repeats)
        per_op = {name: seconds / length * 1e6 for name, seconds in medians.items()}
        line = f"{title}: " + ", ".join(f"{n} {v:.2f} us/op" for n, v in per_op.items())
        if torch is not None:
            line += f"; pathgrad/torch {per_op['pathgrad'] / per_op['torch']:.2f}x"
        else:
            line += "; PyTorch not installed, so no pathgrad/torch ratio"
        print(line)


if __name__ == "__main__":
    main()

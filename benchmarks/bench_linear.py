"""d = a @ b + c, forward and backward: pathgrad against the raw NumPy calls the math needs
(a @ b + c, g @ b.T, a.T @ g, g.sum(0)) and against PyTorch eager, in one run; eager and
compiled (pg.compile).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_linear.py --threads 2
"""

import sys

from _common import blas_note, header, interleaved_medians, load_torch, pin_threads

THREADS = pin_threads(sys.argv)

import numpy as np  # noqa: E402

import pathgrad as pg  # noqa: E402

SIZES = [((1024, 1024), (1024, 1024)), ((256, 512), (512, 256)), ((32, 64), (64, 32))]
QUICK = [((8, 16), (16, 8))]


def numpy_floor(A, B, C, G):
    """The four calls, their results kept to the end of the step as an engine keeps d and the
    three gradients (dropping each at once would let the next reuse its memory, warm)."""

    def run():
        d = A @ B + C
        grad_a = G @ B.T
        grad_b = A.T @ G
        grad_c = G.sum(0)
        return d, grad_a, grad_b, grad_c

    return run


def pathgrad_run(A, B, C, G):
    a, b, c = (pg.tensor(v, requires_grad=True) for v in (A, B, C))
    g = pg.tensor(G)

    def run():
        a.grad = b.grad = c.grad = None
        d = a @ b + c
        d.backward(g)

    return run


def compiled_run(A, B, C, G):
    """The same step through pg.compile: traced on the first call, replayed after."""
    a, b, c = (pg.tensor(v, requires_grad=True) for v in (A, B, C))
    g = pg.tensor(G)

    @pg.compile
    def step(a, b, c, g):
        a.grad = b.grad = c.grad = None
        d = a @ b + c
        d.backward(g)
        return d  # returned, so the plan computes it as eager does (unused, it is pruned)

    def run():
        step(a, b, c, g)

    return run


def torch_run(torch, A, B, C, G):
    a, b, c = (torch.tensor(v, requires_grad=True) for v in (A, B, C))
    g = torch.tensor(G)

    def run():
        a.grad = b.grad = c.grad = None
        d = a @ b + c
        d.backward(g)

    return run


def main() -> None:
    quick = "--quick" in sys.argv
    header(f"d = a @ b + c, forward + backward, float32, {THREADS} thread(s)")
    print(f"BLAS: {blas_note()}")
    torch = load_torch(THREADS)
    if torch is None:
        print("PyTorch not installed: pathgrad is compared with the NumPy floor only")
    rng = np.random.default_rng(0)
    for a_shape, b_shape in QUICK if quick else SIZES:
        A = rng.standard_normal(a_shape, dtype=np.float32)
        B = rng.standard_normal(b_shape, dtype=np.float32)
        C = rng.standard_normal(b_shape[1], dtype=np.float32)
        G = rng.standard_normal((a_shape[0], b_shape[1]), dtype=np.float32)
        runs = {
            "numpy": numpy_floor(A, B, C, G),
            "pathgrad": pathgrad_run(A, B, C, G),
            "compiled": compiled_run(A, B, C, G),
        }
        if torch is not None:
            runs["torch"] = torch_run(torch, A, B, C, G)
        repeats = 3 if quick else (15 if a_shape[0] >= 1024 else 200)
        medians = interleaved_medians(runs, repeats)
        line = (
            f"{a_shape} @ {b_shape}: numpy floor {medians['numpy'] * 1e3:.3f} ms, "
            f"pathgrad {medians['pathgrad'] * 1e3:.3f} ms "
            f"({medians['pathgrad'] / medians['numpy']:.2f}x the floor), "
            f"compiled {medians['compiled'] * 1e3:.3f} ms "
            f"({medians['compiled'] / medians['numpy']:.2f}x)"
        )
        if torch is not None:
            line += (
                f", torch {medians['torch'] * 1e3:.3f} ms "
                f"(pathgrad/torch {medians['pathgrad'] / medians['torch']:.2f}x, "
                f"compiled/torch {medians['compiled'] / medians['torch']:.2f}x)"
            )
        print(line)


if __name__ == "__main__":
    main()

"""A Hessian-vector product of a 2-layer tanh MLP's loss against one gradient of it, both by
pathgrad, in one run (the HVP should cost at most 4 gradients), and against PyTorch's
torch.func (jvp over grad) where it is installed.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_hvp.py --threads 1
"""

import sys

from _common import header, interleaved_medians, load_torch, pin_threads

THREADS = pin_threads(sys.argv)

import numpy as np  # noqa: E402

import pathgrad as pg  # noqa: E402


def loss(w1, b1, w2, b2, x, y):
    hidden = (x @ w1 + b1).tanh()
    return ((hidden @ w2 + b2 - y) ** 2).mean()


def main() -> None:
    quick = "--quick" in sys.argv
    batch, inputs, hidden = (8, 4, 8) if quick else (256, 64, 128)
    header(f"2-layer tanh MLP, batch {batch}, {inputs} -> {hidden} -> 1, float64")
    rng = np.random.default_rng(0)
    params = [
        rng.standard_normal((inputs, hidden)) / np.sqrt(inputs),
        np.zeros(hidden),
        rng.standard_normal((hidden, 1)) / np.sqrt(hidden),
        np.zeros(1),
    ]
    directions = [rng.standard_normal(p.shape) for p in params]
    x, y = rng.standard_normal((batch, inputs)), rng.standard_normal((batch, 1))
    data = (pg.tensor(x), pg.tensor(y))
    gradient = pg.grad(lambda *p: loss(*p, *data), argnums=(0, 1, 2, 3))

    runs = {
        "gradient": lambda: gradient(*params),
        "hvp": lambda: pg.hvp(lambda *p: loss(*p, *data), params, directions),
    }
    torch = load_torch(THREADS)
    if torch is not None:
        t_params = [torch.tensor(p) for p in params]
        t_dirs = [torch.tensor(d) for d in directions]
        t_data = (torch.tensor(x), torch.tensor(y))

        def torch_loss(*p):
            return loss(*p, *t_data)

        t_grad = torch.func.grad(torch_loss, argnums=(0, 1, 2, 3))
        runs["torch gradient"] = lambda: t_grad(*t_params)
        runs["torch hvp"] = lambda: torch.func.jvp(t_grad, tuple(t_params), tuple(t_dirs))
    medians = interleaved_medians(runs, 3 if quick else 51)
    line = (
        f"pathgrad gradient {medians['gradient'] * 1e3:.3f} ms, hvp {medians['hvp'] * 1e3:.3f} ms "
        f"({medians['hvp'] / medians['gradient']:.2f}x the gradient)"
    )
    if torch is not None:
        line += (
            f"; torch.func gradient {medians['torch gradient'] * 1e3:.3f} ms, hvp "
            f"{medians['torch hvp'] * 1e3:.3f} ms "
            f"({medians['torch hvp'] / medians['torch gradient']:.2f}x)"
        )
    print(line)


if __name__ == "__main__":
    main()

"""Big ops: forward and backward of each op on a 512x512 float32 tensor, pathgrad against
PyTorch eager in one run, slowest ratio first. At this size the Python work is noise, so a
ratio far above 1 means pathgrad's NumPy calls are slower than PyTorch's kernels.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_ops.py --threads 1
"""

import sys

from _common import header, interleaved_medians, load_torch, pin_threads

THREADS = pin_threads(sys.argv)

import numpy as np  # noqa: E402

import pathgrad as pg  # noqa: E402

# fn(lib, functional, x): lib is pathgrad or torch, functional is pg or torch.nn.functional
OPS = {
    "exp": lambda L, F, x: x.exp(),
    "tanh": lambda L, F, x: x.tanh(),
    "sigmoid": lambda L, F, x: x.sigmoid(),
    "relu": lambda L, F, x: x.relu(),
    "gelu": lambda L, F, x: F.gelu(x),
    "gelu (tanh)": lambda L, F, x: F.gelu(x, approximate="tanh"),
    "silu": lambda L, F, x: F.silu(x),
    "softplus": lambda L, F, x: F.softplus(x),
    "abs": lambda L, F, x: x.abs(),
    "x ** 3": lambda L, F, x: x**3,
    "x / (x * x + 1)": lambda L, F, x: x / (x * x + 1),
    "maximum": lambda L, F, x: L.maximum(x, x * 0.5),
    "clamp": lambda L, F, x: x.clamp(-0.5, 0.5),
    "where": lambda L, F, x: L.where(x > 0, x, x * 2),
    "sum(0)": lambda L, F, x: x.sum(0),
    "mean(1)": lambda L, F, x: x.mean(1),
    "var(1)": lambda L, F, x: x.var(1),
    "std(1)": lambda L, F, x: x.std(1),
    "norm": lambda L, F, x: x.norm(),
    "amax(1)": lambda L, F, x: x.amax(1),
    "max(1)": lambda L, F, x: x.max(1)[0],
    "logsumexp(1)": lambda L, F, x: x.logsumexp(1),
    "softmax(1)": lambda L, F, x: x.softmax(1),
    "log_softmax(1)": lambda L, F, x: x.log_softmax(1),
    "cat": lambda L, F, x: L.cat([x, x], 0),
    "transpose": lambda L, F, x: x.transpose(0, 1) * 1,
    "x[::2, 1:]": lambda L, F, x: x[::2, 1:] * 1,
    "x[x > 0]": lambda L, F, x: x[x > 0],
    "rows x[idx]": lambda L, F, x: x[L.tensor(np.arange(1024) * 7 % x.shape[0])],
    "x + x[0]": lambda L, F, x: x + x[0],
    "x @ x": lambda L, F, x: x @ x,
}


def run_for(lib, functional, fn, data):
    x = lib.tensor(data, requires_grad=True)

    def run():
        x.grad = None
        fn(lib, functional, x).sum().backward()

    return run


def main() -> None:
    quick = "--quick" in sys.argv
    size = 16 if quick else 512
    header(f"ops on a {size}x{size} float32 tensor, forward + backward, {THREADS} thread(s)")
    torch = load_torch(THREADS)
    if torch is None:
        print("PyTorch not installed: nothing to compare pathgrad with here")
        return
    import torch.nn.functional as F

    data = np.random.default_rng(0).standard_normal((size, size)).astype(np.float32)
    rows = []
    for name, fn in OPS.items():
        runs = {"pathgrad": run_for(pg, pg, fn, data), "torch": run_for(torch, F, fn, data)}
        medians = interleaved_medians(runs, 3 if quick else 15)
        rows.append((medians["pathgrad"] / medians["torch"], name, medians))
    for ratio, name, medians in sorted(rows, key=lambda row: row[0], reverse=True):
        print(
            f"{name:16s} pathgrad {medians['pathgrad'] * 1e3:7.3f} ms, "
            f"torch {medians['torch'] * 1e3:7.3f} ms, pathgrad/torch {ratio:5.2f}x"
        )


if __name__ == "__main__":
    main()

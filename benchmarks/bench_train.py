"""A model of `pathgrad train` trained by pathgrad (its update compiled, as the job runs it, and
eager) and by PyTorch, one after the other: the same code (pathgrad.cli.charlm), the same
initial weights and batches, the model's default steps and schedule; validation losses and wall
times.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_train.py --threads 1 \
        --model transformer
"""

import sys

from _common import header, load_torch, pin_threads

THREADS = pin_threads(sys.argv)

import time  # noqa: E402

import numpy as np  # noqa: E402

import pathgrad as pg  # noqa: E402
from pathgrad.cli import charlm  # noqa: E402
from pathgrad.cli.models import DEFAULT_SIZES, build, init_like_the_lectures  # noqa: E402
from pathgrad.cli.train import DEFAULT_TRAINING, NAMES  # noqa: E402


def _option(name: str, default: str) -> str:
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def main() -> None:
    quick = "--quick" in sys.argv
    model = _option("--model", "gru")
    header(f"pathgrad train --model {model}: pathgrad against PyTorch, {THREADS} thread(s)")
    torch = load_torch(THREADS)
    if torch is None:
        print("PyTorch not installed: nothing to compare with")
        return
    words, _ = charlm.read_words(str(NAMES))
    vocab = charlm.Vocabulary.of(words)
    training = dict(DEFAULT_TRAINING[model])
    if quick:
        training["steps"] = 20
    steps = int(_option("--steps", str(training["steps"])))
    training["steps"] = steps
    config = {
        "model": model,
        **DEFAULT_SIZES[model],
        **training,
        "batch_size": 32,
        "momentum": 0.0,
        "weight_decay": 0.01,
        "vocab_size": vocab.size,
        "length": max(len(w) for w in words) + 1,
    }
    parts = charlm.split(words)
    if quick:
        parts = [p[:200] for p in parts]
    (train_x, train_y), (val_x, val_y), _ = (charlm.dataset(p, vocab, config) for p in parts)
    pg.manual_seed(42)
    ours = build(pg, config)
    init_like_the_lectures(pg, ours, config)
    weights = {k: v.numpy().copy() for k, v in ours.state_dict().items()}
    eager = build(pg, config)
    eager.load_state_dict({k: pg.tensor(v) for k, v in weights.items()})
    theirs = build(torch, config)
    theirs.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})
    results = {}
    for name, L, net in (("pathgrad", pg, ours), ("eager", pg, eager), ("torch", torch, theirs)):
        optimizer, scheduler = charlm.make_optimizer(L, net, config)
        update = charlm.updater(L, net, optimizer)
        if name == "pathgrad":
            update = pg.compile(update)
        rng = np.random.default_rng(42)
        start = time.perf_counter()
        for _ in range(steps):
            x, y = charlm.batch(L, rng, train_x, train_y, 32)
            charlm.train_step(L, net, optimizer, scheduler, x, y, update)
        seconds = time.perf_counter() - start
        results[name] = (charlm.evaluate(L, net, val_x, val_y), seconds)
        print(
            f"{name:9s} val loss {results[name][0]:.4f}, {seconds:.1f} s "
            f"({seconds / steps * 1e3:.2f} ms/step)"
        )
    gap = abs(results["pathgrad"][0] - results["torch"][0])
    print(
        f"{steps} steps: val losses differ by {gap:.4f}; pathgrad (compiled) took "
        f"{results['pathgrad'][1] / results['torch'][1]:.2f}x PyTorch's time, eager "
        f"{results['eager'][1] / results['torch'][1]:.2f}x"
    )


if __name__ == "__main__":
    main()

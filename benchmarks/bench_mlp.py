"""The makemore MLP training step (vocabulary 27, context 3, embedding 10, hidden 200,
BatchNorm1d, tanh, F.cross_entropy, batch 32, SGD lr 0.1), built from pg.nn, against the same
model in PyTorch eager and a hand-written NumPy step with hand-derived gradients, in one run;
then pathgrad's memory over 2,000 steps.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_mlp.py --threads 1
"""

import sys

from _common import blas_note, header, interleaved_medians, load_torch, pin_threads

THREADS = pin_threads(sys.argv)

import gc  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

import pathgrad as pg  # noqa: E402

VOCAB, CONTEXT, EMBED, HIDDEN, BATCH, LR = 27, 3, 10, 200, 32, 0.1


def make_model(L):
    nn = L.nn
    return nn.Sequential(
        nn.Embedding(VOCAB, EMBED),
        nn.Flatten(),
        nn.Linear(CONTEXT * EMBED, HIDDEN),
        nn.BatchNorm1d(HIDDEN),
        nn.Tanh(),
        nn.Linear(HIDDEN, VOCAB),
    )


def library_step(L, model, batches, compiled=False):
    """One training step per call, over a fixed cycle of batches (the step traced once and
    replayed where `compiled`)."""
    optimizer = L.optim.SGD(model.parameters(), lr=LR)
    F = L.nn.functional
    state = {"i": 0}

    def step(x, y):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    if compiled:
        step = L.compile(step)

    def run():
        x, y = batches[state["i"] % len(batches)]
        state["i"] += 1
        return step(x, y)

    return run


def numpy_step(weights, batches):
    """The same step by hand, as in makemore part 4: forward, hand-derived backward, SGD."""
    C, W1, b1, gamma, beta, W2, b2 = (w.copy() for w in weights)
    running_mean, running_var = np.zeros(HIDDEN, np.float32), np.ones(HIDDEN, np.float32)
    rows = np.arange(BATCH)
    state = {"i": 0}

    def run():
        nonlocal running_mean, running_var
        X, Y = batches[state["i"] % len(batches)]
        state["i"] += 1
        emb = C[X].reshape(BATCH, -1)
        pre = emb @ W1.T + b1
        mean = pre.mean(0)
        centred = pre - mean
        var = (centred * centred).mean(0)
        rstd = 1.0 / np.sqrt(var + 1e-5)
        xhat = centred * rstd
        h = np.tanh(gamma * xhat + beta)
        logits = h @ W2.T + b2
        shifted = logits - logits.max(1, keepdims=True)
        e = np.exp(shifted)
        sums = e.sum(1, keepdims=True)
        loss = -(shifted[rows, Y] - np.log(sums[:, 0])).mean()
        running_mean = 0.9 * running_mean + 0.1 * mean
        running_var = 0.9 * running_var + 0.1 * var * (BATCH / (BATCH - 1))
        dlogits = e / sums
        dlogits[rows, Y] -= 1
        dlogits /= BATCH
        dW2, db2 = dlogits.T @ h, dlogits.sum(0)
        dpre_act = (1 - h * h) * (dlogits @ W2)
        dgamma, dbeta = (xhat * dpre_act).sum(0), dpre_act.sum(0)
        dxhat = gamma * dpre_act
        dpre = rstd * (dxhat - dxhat.mean(0) - xhat * (dxhat * xhat).mean(0))
        dW1, db1 = dpre.T @ emb, dpre.sum(0)
        dC = np.zeros_like(C)
        np.add.at(dC, X, (dpre @ W1).reshape(BATCH, CONTEXT, EMBED))
        for w, g in (
            (C, dC),
            (W1, dW1),
            (b1, db1),
            (gamma, dgamma),
            (beta, dbeta),
            (W2, dW2),
            (b2, db2),
        ):
            w -= LR * g
        return loss

    return run


def memory_over_steps(steps: int, batches, compiled: bool) -> tuple[float, float, float, float]:
    """pathgrad's traced memory (MB): the peak over the first 5 steps (a compiled step traces
    there), then, from step 5 on, the memory held after 200 steps and at the end, and the peak
    within a step. A full collection before step 5, for both, lets Python's free lists go: the
    objects a trace made and dropped stay counted there until one runs."""
    pg.manual_seed(0)
    run = library_step(pg, make_model(pg), batches, compiled)
    tracemalloc.start()
    for _ in range(5):
        run()
    first_peak = tracemalloc.get_traced_memory()[1] / 1e6
    gc.collect()
    tracemalloc.reset_peak()
    early = 0.0
    for step in range(5, steps):
        run()
        if step == 199:
            early = tracemalloc.get_traced_memory()[0] / 1e6
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return first_peak, early, current / 1e6, peak / 1e6


def main() -> None:
    quick = "--quick" in sys.argv
    header(f"makemore MLP training step, float32, batch {BATCH}, {THREADS} thread(s)")
    print(f"BLAS: {blas_note()}")
    torch = load_torch(THREADS)
    rng = np.random.default_rng(0)
    raw = [
        (rng.integers(0, VOCAB, (BATCH, CONTEXT)), rng.integers(0, VOCAB, BATCH)) for _ in range(64)
    ]
    pg.manual_seed(0)
    ours = make_model(pg)
    weights = [p.detach().numpy().copy() for p in ours.parameters()]
    pg_batches = [(pg.tensor(x), pg.tensor(y)) for x, y in raw]
    pg.manual_seed(0)
    runs = {
        "numpy": numpy_step(weights, raw),
        "pathgrad": library_step(pg, ours, pg_batches),
        "compiled": library_step(pg, make_model(pg), pg_batches, compiled=True),
    }
    if torch is not None:
        theirs = make_model(torch)
        theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
        runs["torch"] = library_step(
            torch, theirs, [(torch.tensor(x), torch.tensor(y)) for x, y in raw]
        )
    else:
        print("PyTorch not installed: pathgrad is compared with the NumPy step only")
    medians = interleaved_medians(runs, 20 if quick else 2000)
    for name, seconds in medians.items():
        print(f"{name:9s} {seconds * 1e6:8.1f} us/step  {1 / seconds:8.0f} steps/s")
    for name in ("pathgrad", "compiled"):
        print(f"{name} / hand-written NumPy time: {medians[name] / medians['numpy']:.2f}x")
        if torch is not None:
            print(f"{name} steps/s over PyTorch eager's: {medians['torch'] / medians[name]:.2f}x")
    steps = 300 if quick else 2000
    for name, compiled in (("pathgrad", False), ("compiled", True)):
        first, early, end, peak = memory_over_steps(steps, pg_batches, compiled)
        print(
            f"{name} traced memory: peak {first:.2f} MB in the first 5 steps; then "
            f"{early:.2f} MB held after 200 steps, {end:.2f} MB after {steps}, peak {peak:.2f} MB"
        )


if __name__ == "__main__":
    main()

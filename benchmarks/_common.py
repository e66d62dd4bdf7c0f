"""Shared by the benchmark scripts: thread pinning (before NumPy loads), timing, optional torch."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable


def pin_threads(argv: list[str]) -> int:
    """Pin every library to the same thread count; must run before NumPy is imported."""
    threads = 1
    if "--threads" in argv:
        threads = int(argv[argv.index("--threads") + 1])
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)
    # OpenMP threads that spin after their work would steal the cores from whichever library
    # is timed next in an interleaved run
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return threads


def load_torch(threads: int):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


def interleaved_medians(runs: dict[str, Callable[[], None]], repeats: int) -> dict[str, float]:
    """Median seconds of each run, the runs interleaved so machine noise hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for fn in runs.values():
        fn()  # warm up
    for _ in range(repeats):
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def blas_note() -> str:
    try:
        from threadpoolctl import threadpool_info

        pools = threadpool_info()
        return "; ".join(
            f"{p['internal_api']} {p.get('architecture', '')} x{p['num_threads']}" for p in pools
        )
    except ImportError:
        return "threadpoolctl not installed: BLAS kernel not reported"


def environment_warning() -> str | None:
    slow = [v for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if v in os.environ]
    if slow:
        return (
            f"warning: {', '.join(slow)} set, which slows NumPy's BLAS; run with "
            "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE"
        )
    return None


def header(title: str) -> None:
    print(title)
    print(f"python {sys.version.split()[0]}")
    warning = environment_warning()
    if warning:
        print(warning)

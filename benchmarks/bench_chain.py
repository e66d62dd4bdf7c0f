"""Long chains: `x = x * 1.000001 + 0` repeated 200,000 times on a 4x4 tensor (total time and
memory growth, pathgrad against PyTorch, each in a fresh process), and a 1,000,000-op chain
(pathgrad's backward against its own forward, and peak memory).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_chain.py --threads 1
"""

import json
import subprocess
import sys

from _common import header, pin_threads

THREADS = pin_threads(sys.argv)

CHILD = r"""
import json, resource, sys, time
lib, steps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if lib == "pathgrad":
    import pathgrad as m
    x = m.ones(4, 4, requires_grad=True)
else:
    import torch as m
    m.set_num_threads(threads)
    x = m.ones(4, 4, requires_grad=True)
def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
start_rss = rss()
start = time.perf_counter()
y = x
for _ in range(steps):
    y = y * 1.000001 + 0
forward = time.perf_counter() - start
peak_rss = rss()
y.sum().backward()
total = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"forward": forward, "backward": total - forward, "total": total,
                  "growth_mb": peak_rss - start_rss, "peak_mb": peak}))
"""


def child(lib: str, steps: int) -> dict | None:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, lib, str(steps), str(THREADS)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        if "No module named 'torch'" in result.stderr:
            return None
        raise RuntimeError(result.stderr)
    return json.loads(result.stdout)


def main() -> None:
    quick = "--quick" in sys.argv
    steps = 2_000 if quick else 200_000
    long_ops = 10_000 if quick else 1_000_000
    header(f"x = x * 1.000001 + 0, {steps} times on a 4x4 float32 tensor, forward + backward")
    ours = child("pathgrad", steps)
    theirs = child("torch", steps)
    line = f"pathgrad total {ours['total']:.2f} s, memory growth {ours['growth_mb']:.0f} MB"
    if theirs is None:
        line += "; PyTorch not installed, so no comparison"
    else:
        line += (
            f"; torch total {theirs['total']:.2f} s, memory growth {theirs['growth_mb']:.0f} MB; "
            f"time ratio {ours['total'] / theirs['total']:.2f}x, memory ratio "
            f"{ours['growth_mb'] / theirs['growth_mb']:.2f}x"
        )
    print(line)
    # y * 1.000001 + 0 is two ops, so half as many steps make the long chain
    long = child("pathgrad", long_ops // 2)
    print(
        f"{long_ops:,}-op chain: forward {long['forward']:.2f} s, "
        f"backward {long['backward']:.2f} s ({long['backward'] / long['forward']:.2f}x the "
        "forward), peak memory "
        f"{long['peak_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()

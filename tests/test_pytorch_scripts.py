"""PyTorch scripts run unchanged under `import pathgrad as torch` and print PyTorch's numbers."""

import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import pathgrad as pg

SCRIPTS = pathlib.Path(__file__).parent / "scripts"
NAMES = pathlib.Path(pg.__file__).parent / "data" / "names.txt"


def _as_pathgrad(source: str) -> str:
    """The script with its import lines changed and nothing else: `import torch` becomes
    `import pathgrad as torch`, and `import torch.nn.functional as F` (a module path, which no
    alias can redirect) `import pathgrad.nn.functional as F`."""
    changed = re.sub(r"^import torch$", "import pathgrad as torch", source, flags=re.M)
    changed = re.sub(r"^(import|from) torch\.", r"\1 pathgrad.", changed, flags=re.M)
    assert changed != source, "the script has no `import torch` line to change"
    body = [line for line in changed.splitlines() if not line.startswith(("import", "from"))]
    assert body == [line for line in source.splitlines() if not line.startswith(("import", "from"))]
    return changed


def _run(source: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", source, *args], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _numbers(output: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+\.\d+", output)]


def test_makemore_mlp_runs_unchanged_and_matches_pytorch():
    source = (SCRIPTS / "makemore_mlp.py").read_text()
    ours = _run(_as_pathgrad(source), str(NAMES), "100")
    losses = _numbers(ours)
    assert "parameters 12297" in ours
    assert len(losses) == 2 * 100 + 1 and losses[0] > losses[-3]  # the loss falls
    pytest.importorskip("torch")
    theirs = _run(source, str(NAMES), "100")
    assert ours.splitlines()[0] == theirs.splitlines()[0]
    np.testing.assert_allclose(losses, _numbers(theirs), rtol=2e-5, atol=1e-5)


def _compare_lines(ours: str, theirs: str, random_prefix: str = "") -> None:
    """Line by line: the same words (library prefixes aside) and the same numbers to float32
    tolerance; lines starting with `random_prefix` come from each library's own random stream
    and are compared for their form only."""
    ours_lines, theirs_lines = ours.splitlines(), theirs.splitlines()
    assert len(ours_lines) == len(theirs_lines)
    for mine, other in zip(ours_lines, theirs_lines):
        if random_prefix and mine.startswith(random_prefix):
            assert other.startswith(random_prefix) and mine.endswith(".") == other.endswith(".")
            continue
        words = re.sub(r"-?\d+\.\d+", "#", mine.replace("pathgrad.", ""))
        assert words == re.sub(r"-?\d+\.\d+", "#", other.replace("torch.", "")), (mine, other)
        np.testing.assert_allclose(_numbers(mine), _numbers(other), rtol=2e-5, atol=2e-6)


def test_bigram_counts_sampling_and_net_run_unchanged_and_match_pytorch():
    source = (SCRIPTS / "bigram.py").read_text()
    ours = _run(_as_pathgrad(source), str(NAMES), "2000", "30")
    assert "counts pathgrad.int32 pathgrad.Size([27, 27])" in ours
    losses = [float(line.split()[1]) for line in ours.splitlines() if line.startswith("loss")]
    assert len(losses) == 30 and losses[-1] < losses[0]
    pytest.importorskip("torch")
    _compare_lines(ours, _run(source, str(NAMES), "2000", "30"), random_prefix="sample")


def test_manual_backprop_matches_autograd_in_both_libraries():
    source = (SCRIPTS / "mlp_manual_backprop.py").read_text()
    ours = _run(_as_pathgrad(source), str(NAMES), "50")
    checks = [line for line in ours.splitlines() if "approximate" in line]
    assert len(checks) == 28 and all("approximate: True  | small: True" in c for c in checks)
    assert "same True" in ours and "hpreact same True" in ours
    pytest.importorskip("torch")
    _compare_lines(ours, _run(source, str(NAMES), "50"))

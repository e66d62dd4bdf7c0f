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

import io
import subprocess
import sys

from pathgrad.cli.main import demo


def test_demo_agrees_with_the_derivation():
    out = io.StringIO()
    assert demo(2, 2, 2, seed=0, out=out)
    text = out.getvalue()
    for line in (
        "dL/da  engine vs dL/dd @ b.T: agree",
        "dL/db  engine vs a.T @ dL/dd: agree",
        "dL/dc  engine vs (dL/dd).sum(axis=0): agree",
        "all gradients agree",
    ):
        assert line in text


def test_python_dash_m_runs_the_demo():
    result = subprocess.run(
        [sys.executable, "-m", "pathgrad", "demo", "--rows", "3", "--cols", "4"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "all gradients agree with the derivation" in result.stdout

import io
import subprocess
import sys

import pytest

import pathgrad as pg
from pathgrad.cli.main import demo, main


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


def test_a_negative_size_gets_the_usage_message_not_a_traceback(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--rows", "-2"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "argument --rows: -2 is negative" in error and "Traceback" not in error


def test_a_negative_seed_is_read_as_pytorch_reads_it():
    assert demo(2, 2, 2, seed=-1, out=io.StringIO())
    first = pg.manual_seed(-1).numpy.random()
    assert pg.manual_seed(2**64 - 1).numpy.random() == first  # two's complement, as torch's
    assert pg.manual_seed(-1).initial_seed() == 2**64 - 1
    with pytest.raises(ValueError, match=r"manual_seed: 18446744073709551616 is out of range"):
        pg.manual_seed(2**64)

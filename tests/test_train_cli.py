"""`pathgrad train` and `pathgrad sample` end to end: every model through the command line on a
small file, the files a run writes, resuming after Ctrl-C onto the same losses, repeatable
samples, and each bad input as one line and a non-zero exit."""

import errno
import json
import os
import signal

import pytest

import pathgrad as pg
from pathgrad.cli import charlm
from pathgrad.cli.main import main
from pathgrad.cli.models import MODELS

pytest.importorskip("tqdm")
pytest.importorskip("matplotlib")
pytest.importorskip("safetensors")

SMALL = {
    "bigram": [],
    "mlp": ["--embed", "4", "--hidden", "16"],
    "wavenet": ["--context", "4", "--embed", "4", "--hidden", "8"],
    "rnn": ["--embed", "8", "--hidden", "8"],
    "gru": ["--embed", "8", "--hidden", "8"],
    "transformer": ["--embed", "8", "--layers", "1", "--heads", "2"],
}


@pytest.fixture(scope="module")
def names_file(tmp_path_factory):
    words, _ = charlm.read_words(str(charlm.__file__).replace("cli/charlm.py", "data/names.txt"))
    path = tmp_path_factory.mktemp("data") / "names.txt"
    path.write_text("\n".join(words[::40]) + "\n")  # 801 names
    return path


def _train(tmp_path, names_file, model, *extra):
    out = tmp_path / model
    argv = ["train", "--model", model, "--data", str(names_file), "--out", str(out), "--quiet"]
    return main(argv + SMALL[model] + list(extra)), out


@pytest.mark.parametrize("model", MODELS)
def test_every_model_trains_writes_its_files_and_the_loss_falls(
    tmp_path, names_file, model, capsys
):
    code, out = _train(
        tmp_path, names_file, model, "--steps", "300", "--lr", "0.01", "--optimizer", "adamw"
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    for name in ("checkpoint.safetensors", "log.json", "loss.png"):
        assert (out / name).stat().st_size > 0
    log = json.loads((out / "log.json").read_text())
    assert log["train"][-1][1] < log["train"][0][1]
    assert log["final"]["val"] < 3.2  # below log(27), the loss of knowing nothing
    assert "samples: " in printed and "losses: train" in printed
    assert main(["sample", "--checkpoint", str(out), "-n", "3", "--seed", "1"]) == 0


def test_resuming_after_ctrl_c_lands_on_the_uninterrupted_losses(tmp_path, names_file, monkeypatch):
    args = ("--steps", "400", "--eval-every", "100")
    assert _train(tmp_path / "whole", names_file, "mlp", *args)[0] == 0
    whole = json.loads((tmp_path / "whole" / "mlp" / "log.json").read_text())

    step = charlm.train_step
    calls = []

    def interrupted_at_250(*arguments):
        calls.append(1)
        if len(calls) == 250:
            os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, mid-run
        return step(*arguments)

    monkeypatch.setattr(charlm, "train_step", interrupted_at_250)
    code, out = _train(tmp_path / "parts", names_file, "mlp", *args)
    assert code == 130
    assert pg.load(out / "checkpoint.safetensors")["step"] == 250
    monkeypatch.setattr(charlm, "train_step", step)
    assert _train(tmp_path / "parts", names_file, "mlp", *args, "--resume")[0] == 0
    parts = json.loads((out / "log.json").read_text())
    assert parts["train"] == whole["train"] and parts["val"] == whole["val"]
    assert parts["final"] == whole["final"]


def test_diagnostics_write_their_plots(tmp_path, names_file):
    code, out = _train(tmp_path, names_file, "mlp", "--steps", "50", "--diagnostics")
    assert code == 0
    for name in ("activations.png", "gradients.png", "update_ratio.png"):
        assert (out / name).stat().st_size > 0


def test_sampling_is_repeatable_and_takes_a_prefix(tmp_path, names_file, capsys):
    _, out = _train(tmp_path, names_file, "bigram", "--steps", "200")
    capsys.readouterr()

    def drawn(*extra):
        assert main(["sample", "--checkpoint", str(out), "-n", "8", *extra]) == 0
        return capsys.readouterr().out.split()

    assert drawn("--seed", "3") == drawn("--seed", "3")
    assert drawn("--seed", "3") != drawn("--seed", "4")
    assert all(name.startswith("ka") for name in drawn("--prefix", "ka", "--temperature", "0.5"))


def _fails(argv, capsys, *expected):
    capsys.readouterr()  # what ran before
    try:
        code = main(argv)
    except SystemExit as exit:  # argparse's usage errors
        code = exit.code
    error = capsys.readouterr().err.strip()
    assert code != 0
    assert len(error.splitlines()) == 1 and "Traceback" not in error, error
    for text in expected:
        assert text in error, error
    return error


def test_bad_data_files(tmp_path, names_file, capsys):
    files = {
        "empty.txt": b"\n  \n",
        "binary.bin": bytes(range(256)),
        "latin1.txt": "caf\xe9\n".encode("latin-1"),
        "one.txt": b"aaa\naa\na\n" * 4,
        "short.txt": b"ab\nba\nabc\n",
    }
    expected = {
        "empty.txt": "is empty",
        "binary.bin": "binary",
        "latin1.txt": "not UTF-8",
        "one.txt": "single distinct character",
        "short.txt": "at least 10",
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
        _fails(
            ["train", "--data", str(tmp_path / name), "--out", str(tmp_path / "o")],
            capsys,
            expected[name],
        )
    _fails(["train", "--data", str(tmp_path / "missing.txt")], capsys, "does not exist")
    _fails(["train", "--model", "lstm9"], capsys, "invalid choice")
    _fails(["train", "--steps", "-3"], capsys, "must be positive")
    _fails(
        [
            "train",
            "--model",
            "wavenet",
            "--context",
            "6",
            "--data",
            str(names_file),
            "--out",
            str(tmp_path / "w"),
        ],
        capsys,
        "power of two",
    )
    _fails(
        [
            "train",
            "--model",
            "mlp",
            "--heads",
            "2",
            "--data",
            str(names_file),
            "--out",
            str(tmp_path / "h"),
        ],
        capsys,
        "--heads does not apply",
    )


def test_bad_checkpoints_and_folders(tmp_path, names_file, capsys):
    _, out = _train(tmp_path, names_file, "bigram", "--steps", "20")
    before = (out / "checkpoint.safetensors").read_bytes()
    data = ["--data", str(names_file), "--quiet"]
    _fails(["train", "--out", str(out), *data], capsys, "already holds a run", "--resume")
    _fails(
        ["train", "--model", "mlp", "--out", str(out), "--resume", *data],
        capsys,
        "holds a bigram model",
    )
    _fails(["train", "--out", str(tmp_path / "empty"), "--resume", *data], capsys, "no checkpoint")
    assert (out / "checkpoint.safetensors").read_bytes() == before  # nothing lost
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    _fails(["train", "--out", str(blocker / "run"), *data], capsys, "cannot write to output folder")
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "checkpoint.safetensors").write_bytes(before[: len(before) // 2])
    _fails(
        ["train", "--model", "bigram", "--out", str(corrupt), "--resume", *data],
        capsys,
        "not a readable checkpoint",
    )
    _fails(["sample", "--checkpoint", str(corrupt)], capsys, "not a readable checkpoint")
    (corrupt / "checkpoint.safetensors").write_bytes(b"\x00" * 64)
    _fails(["sample", "--checkpoint", str(corrupt)], capsys, "not a readable checkpoint")
    _fails(["sample", "--checkpoint", str(out), "--prefix", "Z9"], capsys, "vocabulary")


def test_a_full_disk_is_one_line_and_keeps_the_old_checkpoint(
    tmp_path, names_file, capsys, monkeypatch
):
    _, out = _train(tmp_path, names_file, "bigram", "--steps", "20")
    before = (out / "checkpoint.safetensors").read_bytes()

    def full(*args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    _fails(
        [
            "train",
            "--model",
            "bigram",
            "--out",
            str(out),
            "--resume",
            "--steps",
            "40",
            "--data",
            str(names_file),
            "--quiet",
        ],
        capsys,
        "No space left on device",
    )
    assert (out / "checkpoint.safetensors").read_bytes() == before
    assert not [p for p in os.listdir(out) if p.startswith(".")]  # no temporary left behind


def test_a_missing_extra_names_the_install_command(tmp_path, names_file, capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tqdm", None)
    _fails(
        ["train", "--data", str(names_file), "--out", str(tmp_path / "o")],
        capsys,
        "pip install 'pathgrad[train]'",
    )


@pytest.mark.parametrize("model", MODELS)
def test_the_compiled_step_trains_as_the_eager_one(tmp_path, names_file, model):
    """The job traces its update once and replays it (pg.compile) unless --eager: both give
    the same losses, bit for bit, for every model."""
    args = (*SMALL[model], "--steps", "120", "--eval-every", "60")
    logs = []
    for name, extra in (("compiled", ()), ("eager", ("--eager",))):
        code, out = _train(tmp_path / name, names_file, model, *args, *extra)
        assert code == 0
        logs.append(json.loads((out / "log.json").read_text()))
    assert logs[0]["train"] == logs[1]["train"] and logs[0]["val"] == logs[1]["val"]

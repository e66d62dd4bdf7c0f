"""`pathgrad train` and `pathgrad sample`: the job around `charlm` (files, progress, checkpoints,
resuming, plots). Every failure a user can cause is a `JobError`, printed as one line."""

from __future__ import annotations

import importlib
import json
import math
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

import pathgrad as pg
from pathgrad.cli import charlm
from pathgrad.cli.models import DEFAULT_SIZES, MODELS, WINDOW_MODELS, build, init_like_the_lectures
from pathgrad.errors import CheckpointError

CHECKPOINT = "checkpoint.safetensors"
NAMES = Path(__file__).resolve().parent.parent / "data" / "names.txt"
EXTRA = "pip install 'pathgrad[train]'"

# per model: the lectures' optimisation settings (makemore parts 2-5 and its repository)
DEFAULT_TRAINING: dict[str, dict[str, Any]] = {
    "bigram": dict(steps=5_000, lr=0.05, optimizer="adamw", schedule="step", decay_at=0.75),
    "mlp": dict(steps=200_000, lr=0.1, optimizer="sgd", schedule="step", decay_at=0.5),
    "wavenet": dict(steps=200_000, lr=0.1, optimizer="sgd", schedule="step", decay_at=0.75),
    "rnn": dict(steps=20_000, lr=3e-3, optimizer="adamw", schedule="step", decay_at=0.75),
    "gru": dict(steps=20_000, lr=3e-3, optimizer="adamw", schedule="step", decay_at=0.75),
    "transformer": dict(steps=10_000, lr=1e-3, optimizer="adamw", schedule="step", decay_at=0.75),
}


class JobError(Exception):
    """A problem with the user's input or environment: one line, then a non-zero exit."""


def need(module: str) -> Any:
    """An optional dependency of the training job, or a JobError naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise JobError(f"{module} is not installed; the training job needs it: {EXTRA}") from None


def config_from(args: Any, words: list[str], digest: str) -> dict[str, Any]:
    model = args.model
    sizes = dict(DEFAULT_SIZES[model])
    for name in ("context", "embed", "hidden", "layers", "heads"):
        given = getattr(args, name, None)
        if given is not None:
            if name not in sizes:
                raise JobError(f"--{name} does not apply to the {model} model")
            sizes[name] = given
    training = dict(DEFAULT_TRAINING[model])
    for name in ("steps", "lr", "optimizer", "schedule", "decay_at"):
        given = getattr(args, name, None)
        if given is not None:
            training[name] = given
    vocab = charlm.Vocabulary.of(words)
    return {
        "model": model,
        **sizes,
        **training,
        "batch_size": args.batch_size,
        "momentum": 0.0,
        "weight_decay": 0.01,
        "seed": args.seed,
        "vocab_size": vocab.size,
        "length": max(len(w) for w in words) + 1,
        "data_sha256": digest,
        "eval_every": args.eval_every or max(int(training["steps"]) // 20, 1),
    }


class Run:
    """One training run: data, model, optimiser, the batch stream and the log, saved and
    restored as a whole so a resumed run lands on the uninterrupted run's losses."""

    def __init__(self, config: dict, words: list[str]) -> None:
        self.config = config
        self.vocab = charlm.Vocabulary.of(words)
        self.splits = [charlm.dataset(part, self.vocab, config) for part in charlm.split(words)]
        pg.manual_seed(config["seed"])
        try:
            self.model = build(pg, config)
        except ValueError as error:  # sizes that do not fit the model
            raise JobError(str(error)) from None
        init_like_the_lectures(pg, self.model, config)
        self.optimizer, self.scheduler = charlm.make_optimizer(pg, self.model, config)
        self.rng = np.random.default_rng(config["seed"])
        self.step = 0
        self.log: dict[str, list] = {"train": [], "val": []}
        self.window: list[float] = []  # the losses since the last logged mean

    def state(self) -> dict:
        return {
            "format": "pathgrad-charlm",
            "config": self.config,
            "vocabulary": self.vocab.chars,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "step": self.step,
            "rng": json.dumps(self.rng.bit_generator.state),
            "generator": pg.get_rng_state(),
            "log": json.dumps(self.log),
            "window": json.dumps(self.window),
        }

    def restore(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step = int(state["step"])
        self.rng.bit_generator.state = json.loads(state["rng"])
        pg.set_rng_state(state["generator"])
        self.log = json.loads(state["log"])
        self.window = json.loads(state["window"])


def load_checkpoint(path: Path) -> dict:
    if path.is_dir():
        path = path / CHECKPOINT
    if not path.exists():
        raise JobError(f"no checkpoint at {path}")
    need("safetensors")
    try:
        state = pg.load(path)
    except CheckpointError as error:
        raise JobError(f"{path} is not a readable checkpoint: {error}") from None
    except OSError as error:
        raise JobError(f"cannot read {path}: {error.strerror}") from None
    if not isinstance(state, dict) or state.get("format") != "pathgrad-charlm":
        raise JobError(f"{path} is not a checkpoint of `pathgrad train`")
    return state


def save_checkpoint(run: Run, folder: Path) -> None:
    try:
        pg.save(run.state(), folder / CHECKPOINT)
    except OSError as error:
        raise JobError(
            f"cannot write the checkpoint in {folder}: {error.strerror or error}; the previous "
            "checkpoint, if any, is unchanged"
        ) from None


def write_text(path: Path, text: str) -> None:
    """Atomically, as checkpoints are written: a crash leaves the old file or the new one."""
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(handle, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError as error:
        raise JobError(f"cannot write {path}: {error.strerror or error}") from None


def prepare_folder(folder: Path, resume: bool) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=folder, prefix=".probe.", delete=True)
        probe.close()
    except OSError as error:
        raise JobError(
            f"cannot write to output folder {folder}: {error.strerror or error}"
        ) from None
    if not resume and (folder / CHECKPOINT).exists():
        raise JobError(
            f"{folder} already holds a run ({CHECKPOINT}); pass --resume to continue it, or "
            "--out to start another elsewhere"
        )


def train(args: Any, out: Any = None) -> int:
    out = out or sys.stdout
    tqdm = need("tqdm").tqdm
    need("matplotlib")
    need("safetensors")
    folder = Path(args.out or f"runs/{args.model}")
    words, digest = charlm.read_words(args.data or str(NAMES))
    config = config_from(args, words, digest)
    prepare_folder(folder, args.resume)
    state = None
    if args.resume:
        state = load_checkpoint(folder)
        saved = state["config"]
        if saved["model"] != config["model"]:
            raise JobError(
                f"{folder} holds a {saved['model']} model, not a {config['model']} one; pass "
                f"--model {saved['model']} to resume it"
            )
        if saved["data_sha256"] != digest:
            raise JobError(f"{folder} was trained on other data than {args.data or NAMES}")
        config = dict(saved, steps=config["steps"])
    run = Run(config, words)
    if state is not None:
        run.restore(state)
    train_x, train_y = run.splits[0]
    parameters = sum(p.numel() for p in run.model.parameters())
    print(
        f"{config['model']}: {parameters:,} parameters, vocabulary {config['vocab_size']}, "
        f"{len(train_x):,} training examples; steps {config['steps']:,}, batch "
        f"{config['batch_size']}, {config['optimizer']} lr {config['lr']} ({config['schedule']})",
        file=out,
    )
    diagnostics = Diagnostics(run) if args.diagnostics else None
    stop = []  # Ctrl-C asks the loop to stop at the end of the step it is in

    def ask_to_stop(signum: int, frame: Any) -> None:
        if stop:  # a second Ctrl-C: stop at once
            raise KeyboardInterrupt
        stop.append(signum)

    previous = signal.signal(signal.SIGINT, ask_to_stop)
    bar = tqdm(
        total=config["steps"],
        initial=run.step,
        unit="step",
        file=sys.stderr,
        disable=args.quiet,
        dynamic_ncols=True,
    )
    # the update is traced once and replayed (pg.compile) unless asked not to; diagnostics
    # read activations and gradients through hooks, which a replay would skip
    update = charlm.updater(pg, run.model, run.optimizer)
    if not args.eager and diagnostics is None:
        update = pg.compile(update)
    started, window = time.perf_counter(), run.window
    try:
        while run.step < config["steps"] and not stop:
            x, y = charlm.batch(pg, run.rng, train_x, train_y, config["batch_size"])
            if diagnostics is not None:
                diagnostics.before(run.step)
            loss = charlm.train_step(pg, run.model, run.optimizer, run.scheduler, x, y, update)
            if not math.isfinite(loss):
                raise JobError(f"the loss became {loss} at step {run.step}; try a smaller --lr")
            if diagnostics is not None:
                diagnostics.after(run.step)
            run.step += 1
            window.append(loss)
            if run.step % 100 == 0 or run.step == config["steps"]:
                run.log["train"].append([run.step, float(np.mean(window))])
                bar.set_postfix(loss=f"{np.mean(window):.4f}", refresh=False)
                window.clear()
            bar.update(1)
            if run.step % config["eval_every"] == 0 or run.step == config["steps"]:
                val = charlm.evaluate(pg, run.model, *run.splits[1])
                run.log["val"].append([run.step, val])
                bar.write(f"step {run.step:>7,}: val loss {val:.4f}", file=out)
    finally:
        bar.close()
        signal.signal(signal.SIGINT, previous)
    interrupted = bool(stop)
    elapsed = time.perf_counter() - started
    save_checkpoint(run, folder)
    final = {}
    if not interrupted:
        final["final"] = {
            name: charlm.evaluate(pg, run.model, *data)
            for name, data in zip(("train", "val", "test"), run.splits)
        }
    write_text(folder / "log.json", json.dumps({"config": config, **run.log, **final}, indent=1))
    plot_losses(run.log, folder / "loss.png")
    if diagnostics is not None:
        diagnostics.plot(folder)
    if interrupted:
        print(
            f"interrupted at step {run.step:,}: checkpoint saved in {folder}; continue with "
            f"the same command and --resume",
            file=out,
        )
        return 130
    print(
        "losses: "
        + ", ".join(f"{name} {value:.4f}" for name, value in final["final"].items())
        + f" ({elapsed:.0f} s, {elapsed / max(run.step, 1) * 1e3:.2f} ms/step)",
        file=out,
    )
    generator = pg.Generator().manual_seed(config["seed"])
    names = charlm.sample(pg, run.model, run.vocab, config, 20, generator)
    print("samples: " + " ".join(names), file=out)
    print(f"written: {folder / CHECKPOINT}, {folder / 'log.json'}, {folder / 'loss.png'}", file=out)
    return 0


def plot_losses(log: dict, path: Path) -> None:
    matplotlib = need("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4))
    if log["train"]:
        steps, losses = zip(*log["train"])
        axes.plot(steps, losses, label="train (mean of 100 steps)", linewidth=0.8)
    if log["val"]:
        steps, losses = zip(*log["val"])
        axes.plot(steps, losses, "o-", label="validation")
    axes.set_xlabel("step")
    axes.set_ylabel("loss (nats per character)")
    axes.legend()
    axes.grid(alpha=0.3)
    figure.tight_layout()
    try:
        figure.savefig(path, dpi=100)
    except OSError as error:
        raise JobError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        plt.close(figure)


class Diagnostics:
    """The plots the makemore lectures judge training health by: each tanh layer's activations
    (and its saturated fraction) and their gradients, and each weight's update-to-data ratio,
    log10(std(lr * grad) / std(weight)), over time."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.tanh = [m for m in run.model.modules() if isinstance(m, pg.nn.Tanh)]
        self.outputs: list = []
        self.snapshots: list = []
        self.ratios: dict[str, list] = {}
        self.every = max(run.config["steps"] // 200, 1)
        self.snapshot_at = {0, run.config["steps"] // 2, run.config["steps"] - 1}
        for module in self.tanh:
            module.register_forward_hook(self._keep)

    def _keep(self, module: Any, args: Any, output: Any) -> None:
        if self.recording and output.requires_grad:  # not in evaluation's no_grad passes
            output.retain_grad()
            self.outputs.append(output)

    def before(self, step: int) -> None:
        self.recording = step in self.snapshot_at
        self.outputs = []

    def after(self, step: int) -> None:
        if self.recording:
            self.snapshots.append(
                (step, [(o.detach().numpy().copy(), o.grad.numpy().copy()) for o in self.outputs])
            )
            self.recording = False
        if step % self.every == 0:
            lr = self.run.optimizer.param_groups[0]["lr"]
            for name, p in self.run.model.named_parameters():
                if p.ndim == 2 and p.grad is not None:
                    ratio = (lr * p.grad.numpy()).std() / (p.detach().numpy().std() + 1e-12)
                    self.ratios.setdefault(name, []).append((step, math.log10(ratio + 1e-20)))

    recording = False

    def plot(self, folder: Path) -> None:
        import matplotlib.pyplot as plt

        for index, (title, filename) in enumerate(
            (
                ("tanh activations", "activations.png"),
                ("gradients at tanh outputs", "gradients.png"),
            )
        ):
            figure, axes = plt.subplots(
                1, max(len(self.snapshots), 1), figsize=(5 * max(len(self.snapshots), 1), 3.5)
            )
            axes = np.atleast_1d(axes)
            for ax, (step, layers) in zip(axes, self.snapshots):
                for layer, pair in enumerate(layers):
                    values = pair[index].ravel()
                    counts, edges = np.histogram(values, bins=50)
                    label = f"layer {layer}"
                    if index == 0:
                        label += f": {np.mean(np.abs(values) > 0.97):.1%} saturated"
                    else:
                        label += f": std {values.std():.2e}"
                    ax.plot((edges[:-1] + edges[1:]) / 2, counts, label=label)
                ax.set_title(f"{title}, step {step}")
                ax.legend(fontsize=7)
            figure.tight_layout()
            figure.savefig(folder / filename, dpi=90)
            plt.close(figure)
        figure, axes = plt.subplots(figsize=(7, 4))
        for name, points in self.ratios.items():
            steps, values = zip(*points)
            axes.plot(steps, values, label=name, linewidth=0.8)
        axes.axhline(-3, color="k", linestyle="--", linewidth=0.8)
        axes.set_xlabel("step")
        axes.set_ylabel("log10 update / data")
        axes.legend(fontsize=7)
        figure.tight_layout()
        figure.savefig(folder / "update_ratio.png", dpi=90)
        plt.close(figure)


def sample_command(args: Any, out: Any = None) -> int:
    out = out or sys.stdout
    state = load_checkpoint(Path(args.checkpoint))
    config = state["config"]
    vocab = charlm.Vocabulary(state["vocabulary"])
    model = build(pg, config)
    model.load_state_dict(state["model"])
    generator = pg.Generator()
    if args.seed is not None:
        generator.manual_seed(args.seed)
    if args.temperature <= 0:
        raise JobError(f"--temperature must be positive, got {args.temperature}")
    try:
        names = charlm.sample(
            pg, model, vocab, config, args.n, generator, args.temperature, args.prefix
        )
    except charlm.DataError as error:
        raise JobError(f"--prefix {args.prefix!r}: {error}") from None
    for name in names:
        print(name, file=out)
    return 0


__all__ = ["JobError", "MODELS", "WINDOW_MODELS", "sample_command", "train"]

"""Character-level language modelling, library-agnostic: the vocabulary, the datasets, batches,
the training step, evaluation and sampling, each written against PyTorch's API and given a
library namespace `L` (pathgrad, or torch), so the job and its PyTorch twin share every line.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from pathgrad.cli.models import WINDOW_MODELS

BOUNDARY = "\n"  # index 0: the start and end of every item (no line can hold it)
IGNORE = -1  # targets past a sequence's end, which the loss skips


class DataError(ValueError):
    """A data file the job cannot train on; its message is the one line the user sees."""


@dataclass
class Vocabulary:
    chars: str  # the characters in index order, index 0 the boundary

    @classmethod
    def of(cls, words: list[str]) -> Vocabulary:
        return cls(BOUNDARY + "".join(sorted(set("".join(words)))))

    @property
    def size(self) -> int:
        return len(self.chars)

    @functools.cached_property
    def index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.chars)}

    def encode(self, text: str) -> list[int]:
        index = self.index
        missing = sorted({c for c in text if c not in index})
        if missing:
            raise DataError(f"{''.join(missing)!r} is not in the model's vocabulary")
        return [index[c] for c in text]

    def decode(self, indices: list[int]) -> str:
        return "".join(self.chars[i] for i in indices)


def read_words(path: str) -> tuple[list[str], str]:
    """The non-empty lines of a UTF-8 text file, and the file's sha256; a DataError for a
    missing, empty, binary or one-character file."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise DataError(f"data file {path} does not exist") from None
    except IsADirectoryError:
        raise DataError(f"data file {path} is a folder, not a text file") from None
    except OSError as error:
        raise DataError(f"cannot read data file {path}: {error.strerror}") from None
    if b"\x00" in raw:
        raise DataError(f"data file {path} is binary, not text with one item per line")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DataError(f"data file {path} is not UTF-8 text") from None
    words = [line.strip() for line in text.splitlines() if line.strip()]
    if not words:
        raise DataError(f"data file {path} is empty: it needs one item (a name, a word) per line")
    if len(words) < 10:
        raise DataError(
            f"data file {path} holds {len(words)} items; the 80/10/10 train/val/test split "
            "needs at least 10 (one per line)"
        )
    if len(set("".join(words))) < 2:
        raise DataError(
            f"data file {path} holds a single distinct character: there is nothing to learn"
        )
    return words, hashlib.sha256(raw).hexdigest()


def split(words: list[str], seed: int = 42) -> tuple[list[str], list[str], list[str]]:
    """80/10/10 train/val/test, shuffled with a fixed seed (not the training seed), so every
    run on a file scores on the same held-out items."""
    order = np.random.default_rng(seed).permutation(len(words))
    shuffled = [words[i] for i in order]
    first, second = int(0.8 * len(words)), int(0.9 * len(words))
    return shuffled[:first], shuffled[first:second], shuffled[second:]


def windows(words: list[str], vocab: Vocabulary, context: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (previous `context` characters, next character) pair, makemore's dataset."""
    xs, ys = [], []
    for word in words:
        window = [0] * context
        for index in vocab.encode(word) + [0]:
            xs.append(window)
            ys.append(index)
            window = window[1:] + [index]
    return np.array(xs, dtype=np.int64).reshape(-1, context), np.array(ys, dtype=np.int64)


def sequences(words: list[str], vocab: Vocabulary, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Each item as input [boundary, c1 .. cn] and target [c1 .. cn, boundary], padded to
    `length` (inputs with the boundary, targets with IGNORE), as the makemore repository's."""
    xs = np.zeros((len(words), length), dtype=np.int64)
    ys = np.full((len(words), length), IGNORE, dtype=np.int64)
    for row, word in enumerate(words):
        encoded = vocab.encode(word)[: length - 1]
        xs[row, 1 : len(encoded) + 1] = encoded
        ys[row, : len(encoded)] = encoded
        ys[row, len(encoded)] = 0
    return xs, ys


def dataset(words: list[str], vocab: Vocabulary, config: dict) -> tuple[np.ndarray, np.ndarray]:
    if config["model"] in WINDOW_MODELS:
        return windows(words, vocab, config["context"])
    return sequences(words, vocab, config["length"])


def loss_of(L: Any, model: Any, x: Any, y: Any, reduction: str = "mean") -> Any:
    logits = model(x)
    return L.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]),
        y.reshape(-1),
        ignore_index=IGNORE,
        reduction=reduction,
    )


def make_optimizer(L: Any, model: Any, config: dict) -> tuple[Any, Any]:
    """The optimiser and the learning-rate schedule the config names."""
    parameters = list(model.parameters())
    if config["optimizer"] == "sgd":
        optimizer = L.optim.SGD(parameters, lr=config["lr"], momentum=config["momentum"])
    elif config["optimizer"] == "adam":
        optimizer = L.optim.Adam(parameters, lr=config["lr"])
    else:
        optimizer = L.optim.AdamW(
            parameters, lr=config["lr"], weight_decay=config["weight_decay"], betas=(0.9, 0.99)
        )
    schedules = L.optim.lr_scheduler
    if config["schedule"] == "cosine":
        scheduler = schedules.CosineAnnealingLR(optimizer, T_max=max(config["steps"], 1))
    elif config["schedule"] == "step":
        drop = max(int(config["decay_at"] * config["steps"]), 1)
        scheduler = schedules.MultiStepLR(optimizer, milestones=[drop], gamma=0.1)
    else:
        scheduler = schedules.MultiStepLR(optimizer, milestones=[], gamma=1.0)
    return optimizer, scheduler


def updater(L: Any, model: Any, optimizer: Any) -> Any:
    """One update on a batch: the loss, its gradients and the optimiser's step (what
    `pathgrad train` compiles; the schedule and the loss's value stay outside)."""

    def update(x: Any, y: Any) -> Any:
        loss = loss_of(L, model, x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss

    return update


def train_step(
    L: Any, model: Any, optimizer: Any, scheduler: Any, x: Any, y: Any, update: Any = None
) -> float:
    """One training step; `update` is the model's updater, compiled or not (made here if None)."""
    loss = (update or updater(L, model, optimizer))(x, y)
    scheduler.step()
    return loss.item()


def batch(L: Any, rng: np.random.Generator, x: np.ndarray, y: np.ndarray, size: int) -> tuple:
    rows = rng.integers(0, x.shape[0], size)
    return L.tensor(x[rows]), L.tensor(y[rows])


def evaluate(L: Any, model: Any, x: np.ndarray, y: np.ndarray, chunk: int = 4096) -> float:
    """The mean loss per predicted character over the whole split, in eval mode."""
    if not len(x):
        return float("nan")
    model.eval()
    total, count = 0.0, 0
    with L.no_grad():
        for start in range(0, len(x), chunk):
            xs, ys = x[start : start + chunk], y[start : start + chunk]
            total += loss_of(L, model, L.tensor(xs), L.tensor(ys), "sum").item()
            count += int((ys != IGNORE).sum())
    model.train()
    return total / count


def sample(
    L: Any,
    model: Any,
    vocab: Vocabulary,
    config: dict,
    count: int,
    generator: Any,
    temperature: float = 1.0,
    prefix: str = "",
    limit: int = 64,
) -> list[str]:
    """`count` items drawn character by character until each draws the boundary, every one
    starting with `prefix`."""
    start = vocab.encode(prefix)
    model.eval()
    window_model = config["model"] in WINDOW_MODELS
    limit = min(limit, config["length"]) if config["model"] == "transformer" else limit
    drawn = [list(start) for _ in range(count)]
    ends: list[int | None] = [None] * count  # where each item drew the boundary
    with L.no_grad():
        for _ in range(max(limit - len(start), 0)):
            if window_model:
                context = config["context"]
                rows = [([0] * context + d)[-context:] for d in drawn]
            else:
                rows = [[0] + d for d in drawn]
            logits = model(L.tensor(rows))
            if not window_model:
                logits = logits[:, -1, :]
            probabilities = L.nn.functional.softmax(logits / temperature, dim=-1)
            picks = L.multinomial(probabilities, 1, generator=generator)[:, 0].tolist()
            for i, pick in enumerate(picks):  # every row grows, so the batch stays rectangular
                if ends[i] is None and pick == 0:
                    ends[i] = len(drawn[i])
                drawn[i].append(pick)
            if all(end is not None for end in ends):
                break
    model.train()
    return [vocab.decode(d[:end]) for d, end in zip(drawn, ends)]

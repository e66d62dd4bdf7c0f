"""Every model of `pathgrad train`, from the same initial weights and batches, follows PyTorch's
loss to 1e-4 over its first 200 steps, with the job's own optimiser and schedule."""

import numpy as np
import pytest

import pathgrad as pg
from pathgrad.cli import charlm
from pathgrad.cli.models import DEFAULT_SIZES, MODELS, build, init_like_the_lectures
from pathgrad.cli.train import DEFAULT_TRAINING, NAMES

torch = pytest.importorskip("torch")


def _config(model, words):
    return {
        "model": model,
        **DEFAULT_SIZES[model],
        **DEFAULT_TRAINING[model],
        "steps": 200,
        "batch_size": 32,
        "momentum": 0.0,
        "weight_decay": 0.01,
        "vocab_size": charlm.Vocabulary.of(words).size,
        "length": max(len(w) for w in words) + 1,
    }


@pytest.mark.parametrize("model", MODELS)
def test_loss_follows_pytorch_for_200_steps(model):
    words, _ = charlm.read_words(str(NAMES))
    config = _config(model, words)
    x, y = charlm.dataset(words[:4000], charlm.Vocabulary.of(words), config)
    pg.manual_seed(0)
    ours = build(pg, config)
    init_like_the_lectures(pg, ours, config)
    theirs = build(torch, config)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    optimizers = [
        charlm.make_optimizer(pg, ours, config),
        charlm.make_optimizer(torch, theirs, config),
    ]
    rng = np.random.default_rng(1)
    worst = 0.0
    for _ in range(200):
        rows = rng.integers(0, len(x), 32)
        loss_ours = charlm.train_step(
            pg, ours, *optimizers[0], pg.tensor(x[rows]), pg.tensor(y[rows])
        )
        loss_theirs = charlm.train_step(
            torch, theirs, *optimizers[1], torch.tensor(x[rows]), torch.tensor(y[rows])
        )
        worst = max(worst, abs(loss_ours - loss_theirs))
    assert worst <= 1e-4, f"{model}: losses parted by {worst:.2e}"
    assert ours.state_dict().keys() == theirs.state_dict().keys()

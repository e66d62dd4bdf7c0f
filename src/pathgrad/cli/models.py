"""The character-level language models of the makemore series, written once against PyTorch's
API and built from a library namespace `L` (pathgrad, or torch itself): the same code trains in
both, which is how their losses are compared step by step.

Window models (`bigram`, `mlp`, `wavenet`) read a fixed context of previous characters and
predict the next; sequence models (`rnn`, `gru`, `transformer`) read a whole name and predict
every next character at once (padded positions ignored).
"""

from __future__ import annotations

import math
from typing import Any

MODELS = ("bigram", "mlp", "wavenet", "rnn", "gru", "transformer")
WINDOW_MODELS = ("bigram", "mlp", "wavenet")

# the lectures' sizes (makemore parts 2-5 and the makemore repository), as the flags' defaults
DEFAULT_SIZES: dict[str, dict[str, int]] = {
    "bigram": {"context": 1},
    "mlp": {"context": 3, "embed": 10, "hidden": 200},
    "wavenet": {"context": 8, "embed": 24, "hidden": 128},
    "rnn": {"embed": 64, "hidden": 64},
    "gru": {"embed": 64, "hidden": 64},
    "transformer": {"embed": 64, "layers": 4, "heads": 4},
}


def build(L: Any, config: dict[str, Any]) -> Any:
    """The model `config["model"]` as an L.nn.Module; config holds its sizes, the vocabulary
    size and, for sequence models, the longest sequence."""
    nn, F = L.nn, L.nn.functional
    kind, vocab = config["model"], config["vocab_size"]

    class FlattenConsecutive(nn.Module):
        """(B, T, C) -> (B, T / n, C * n): n neighbouring characters side by side (part 5)."""

        def __init__(self, n):
            super().__init__()
            self.n = n

        def forward(self, x):
            batch, steps, channels = x.shape
            x = x.reshape(batch, steps // self.n, channels * self.n)
            return x[:, 0, :] if x.shape[1] == 1 else x

    class BatchNormOverTime(nn.Module):
        """BatchNorm1d over (B, C) or (B, T, C) (the statistics over B and T per channel, as
        part 5's layer): PyTorch's BatchNorm1d wants channels in dim 1, so 3-D input is seen
        transposed."""

        def __init__(self, channels):
            super().__init__()
            self.norm = nn.BatchNorm1d(channels)

        def forward(self, x):
            if x.ndim == 2:
                return self.norm(x)
            return self.norm(x.transpose(1, 2)).transpose(1, 2)

    class Window(nn.Module):
        def __init__(self, layers):
            super().__init__()
            self.layers = nn.Sequential(*layers)

        def forward(self, x):
            return self.layers(x)

    class Recurrent(nn.Module):
        def __init__(self, cell, embed, hidden):
            super().__init__()
            self.embedding = nn.Embedding(vocab, embed)
            recurrent = nn.GRU if cell == "gru" else nn.RNN
            self.recurrent = recurrent(embed, hidden, batch_first=True)
            self.head = nn.Linear(hidden, vocab)

        def forward(self, x):
            out, _ = self.recurrent(self.embedding(x))
            return self.head(out)

    class CausalSelfAttention(nn.Module):
        def __init__(self, embed, heads):
            super().__init__()
            self.heads = heads
            self.qkv = nn.Linear(embed, 3 * embed)
            self.proj = nn.Linear(embed, embed)

        def forward(self, x):
            batch, steps, channels = x.shape
            q, k, v = self.qkv(x).split(channels, dim=2)
            shape = (batch, steps, self.heads, channels // self.heads)
            q, k, v = (t.view(shape).transpose(1, 2) for t in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.proj(y.transpose(1, 2).reshape(batch, steps, channels))

    class Block(nn.Module):
        def __init__(self, embed, heads):
            super().__init__()
            self.ln1 = nn.LayerNorm(embed)
            self.attention = CausalSelfAttention(embed, heads)
            self.ln2 = nn.LayerNorm(embed)
            # GPT-2's tanh form of GELU (pathgrad's exact erf is per element in Python)
            self.mlp = nn.Sequential(
                nn.Linear(embed, 4 * embed),
                nn.GELU(approximate="tanh"),
                nn.Linear(4 * embed, embed),
            )

        def forward(self, x):
            x = x + self.attention(self.ln1(x))
            return x + self.mlp(self.ln2(x))

    class Transformer(nn.Module):
        def __init__(self, embed, layers, heads, length):
            super().__init__()
            self.token = nn.Embedding(vocab, embed)
            self.position = nn.Embedding(length, embed)
            self.blocks = nn.ModuleList([Block(embed, heads) for _ in range(layers)])
            self.ln = nn.LayerNorm(embed)
            self.head = nn.Linear(embed, vocab, bias=False)

        def forward(self, x):
            positions = L.arange(x.shape[1])
            h = self.token(x) + self.position(positions)
            for block in self.blocks:
                h = block(h)
            return self.head(self.ln(h))

    if kind == "bigram":
        return Window([nn.Embedding(vocab, vocab), nn.Flatten()])
    if kind == "mlp":
        context, embed, hidden = config["context"], config["embed"], config["hidden"]
        return Window(
            [
                nn.Embedding(vocab, embed),
                nn.Flatten(),
                nn.Linear(context * embed, hidden),
                nn.BatchNorm1d(hidden),
                nn.Tanh(),
                nn.Linear(hidden, vocab),
            ]
        )
    if kind == "wavenet":
        context, embed, hidden = config["context"], config["embed"], config["hidden"]
        levels = int(math.log2(context))
        if 2**levels != context or levels < 1:
            raise ValueError(f"wavenet: --context must be a power of two, got {context}")
        layers = [nn.Embedding(vocab, embed)]
        width = embed
        for _ in range(levels):
            layers += [
                FlattenConsecutive(2),
                nn.Linear(width * 2, hidden, bias=False),
                BatchNormOverTime(hidden),
                nn.Tanh(),
            ]
            width = hidden
        return Window(layers + [nn.Linear(hidden, vocab)])
    if kind in ("rnn", "gru"):
        return Recurrent(kind, config["embed"], config["hidden"])
    if kind == "transformer":
        if config["embed"] % config["heads"]:
            raise ValueError(
                f"transformer: --embed {config['embed']} must be divisible by --heads "
                f"{config['heads']}"
            )
        return Transformer(config["embed"], config["layers"], config["heads"], config["length"])
    raise ValueError(f"unknown model {kind!r}; choose one of {', '.join(MODELS)}")


def init_like_the_lectures(L: Any, model: Any, config: dict[str, Any]) -> None:
    """The lectures' tweaks to the default initialisation: the last layer's weights scaled
    down (0.1) so the first loss is near log(vocabulary), as makemore parts 3-5 do."""
    if config["model"] in ("mlp", "wavenet"):
        with L.no_grad():
            model.layers[-1].weight.mul_(0.1)

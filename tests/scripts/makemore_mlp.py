"""A makemore-style character MLP (embedding, linear, BatchNorm1d, tanh, cross-entropy, SGD with
a step schedule), written for PyTorch. The tests run it as it is and with its import line
changed to pathgrad (`import pathgrad as torch`, `import pathgrad.nn as nn`, ...), and
compare the printed losses.

The two libraries' random streams differ by design, so the script draws its initial weights
and its batches from NumPy: everything else is PyTorch's API as the lectures use it.

usage: python makemore_mlp.py NAMES_FILE STEPS
"""

import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

words = open(sys.argv[1]).read().splitlines()
steps = int(sys.argv[2])
chars = sorted(set("".join(words)))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
vocab_size = len(stoi)
block_size = 3


def build_dataset(words):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    return torch.tensor(X), torch.tensor(Y)


rng = np.random.default_rng(42)
order = rng.permutation(len(words))
words = [words[i] for i in order]
n1 = int(0.8 * len(words))
Xtr, Ytr = build_dataset(words[:n1])
Xdev, Ydev = build_dataset(words[n1:])


class MLP(nn.Module):
    def __init__(self, n_embd=10, n_hidden=200):
        super().__init__()
        self.C = nn.Embedding(vocab_size, n_embd)
        self.fc1 = nn.Linear(n_embd * block_size, n_hidden)
        self.bn = nn.BatchNorm1d(n_hidden)
        self.fc2 = nn.Linear(n_hidden, vocab_size)

    def forward(self, x):
        emb = self.C(x)
        h = torch.tanh(self.bn(self.fc1(emb.view(emb.shape[0], -1))))
        return self.fc2(h)


model = MLP()
with torch.no_grad():
    for name, p in model.named_parameters():
        scale = 1.0 if name.startswith("C") else 0.1
        p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)) * scale))
print("parameters", sum(p.nelement() for p in model.parameters()))

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(steps // 2, 1), gamma=0.1)
for i in range(steps):
    ix = torch.tensor(rng.integers(0, Xtr.shape[0], 32))
    logits = model(Xtr[ix])
    loss = F.cross_entropy(logits, Ytr[ix])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    print(f"step {i:4d} loss {loss.item():.6f} lr {scheduler.get_last_lr()[0]:.4f}")

model.eval()
with torch.no_grad():
    print(f"dev loss {F.cross_entropy(model(Xdev), Ydev).item():.6f}")

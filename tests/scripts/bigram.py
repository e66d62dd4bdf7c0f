"""The bigram character model, written for PyTorch the way the makemore lectures write it: a
count matrix filled by indexing, normalised rows, names sampled with multinomial, the average
negative log-likelihood, then the same model as a one-layer net trained by gradient descent
with `W.data += -lr * W.grad`. The tests run it as it is and with its import lines changed to
pathgrad, and compare the printed losses.

The two libraries' random streams differ by design, so the samples differ (their lines are
checked for shape only) and the net's initial weights come from NumPy.

usage: python bigram.py NAMES_FILE WORDS STEPS
"""

import sys

import numpy as np
import torch
import torch.nn.functional as F

words = open(sys.argv[1]).read().splitlines()[: int(sys.argv[2])]
steps = int(sys.argv[3])

chars = sorted(list(set("".join(words))))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
itos = {i: s for s, i in stoi.items()}

N = torch.zeros((27, 27), dtype=torch.int32)
for w in words:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        ix1 = stoi[ch1]
        ix2 = stoi[ch2]
        N[ix1, ix2] += 1
print("counts", N.dtype, N.shape, N.sum().item())

P = (N + 1).float()
P /= P.sum(1, keepdims=True)
print(f"row sums {P.sum(1).min().item():.4f} {P.sum(1).max().item():.4f}")

g = torch.Generator().manual_seed(2147483647)
for _ in range(5):
    out = []
    ix = 0
    while True:
        p = P[ix]
        ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
        out.append(itos[ix])
        if ix == 0:
            break
    print("sample", "".join(out))

log_likelihood = 0.0
n = 0
for w in words:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        ix1 = stoi[ch1]
        ix2 = stoi[ch2]
        prob = P[ix1, ix2]
        logprob = torch.log(prob)
        log_likelihood += logprob
        n += 1
nll = -log_likelihood
print(f"nll {nll.item() / n:.6f}")

xs, ys = [], []
for w in words:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        xs.append(stoi[ch1])
        ys.append(stoi[ch2])
xs = torch.tensor(xs)
ys = torch.tensor(ys)
num = xs.nelement()
print("examples", num)

W = torch.tensor(np.random.default_rng(0).standard_normal((27, 27)), dtype=torch.float32)
W.requires_grad = True
for _ in range(steps):
    xenc = F.one_hot(xs, num_classes=27).float()
    logits = xenc @ W
    counts = logits.exp()
    probs = counts / counts.sum(1, keepdims=True)
    loss = -probs[torch.arange(num), ys].log().mean() + 0.01 * (W**2).mean()
    print(f"loss {loss.item():.6f}")
    W.grad = None
    loss.backward()
    W.data += -50 * W.grad

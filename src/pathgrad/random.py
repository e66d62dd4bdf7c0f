"""pathgrad's random generator, below the tensor so that factories and in-place fills
(`randn`, `normal_`) draw from the one stream `pg.manual_seed` sets."""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed pathgrad's random generator, so rand/randn/randint and normal_/uniform_ repeat.
    Any integer PyTorch takes: from -2**63 to 2**64 - 1, a negative one read as its 64-bit
    two's complement."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed: expects an integer, got {seed!r}")
    if not -(2**63) <= seed < 2**64:
        raise ValueError(f"manual_seed: {seed} is out of range (-2**63 to 2**64 - 1)")
    _generator = np.random.default_rng(int(seed) % 2**64)
    return _generator


def default_generator() -> np.random.Generator:
    return _generator

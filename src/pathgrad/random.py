"""pathgrad's random generators, below the tensor so that factories and in-place fills
(`randn`, `normal_`) draw from the one default stream `pg.manual_seed` sets, or from a
`pg.Generator` passed as `generator=`, as PyTorch's."""

from __future__ import annotations

import secrets

import numpy as np

_STATE_BYTES = 37  # PCG64: state and increment (16 bytes each), has_uint32 (1), uinteger (4)


def _check_seed(seed: object, name: str) -> int:
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"{name}: expects an integer, got {seed!r}")
    if not -(2**63) <= seed < 2**64:
        raise ValueError(f"{name}: {seed} is out of range (-2**63 to 2**64 - 1)")
    return int(seed) % 2**64


class Generator:
    """A random stream of its own, as torch.Generator: `pg.Generator().manual_seed(0)` and then
    `generator=` on randn, rand, randint, randperm, normal, multinomial, bernoulli, the in-place
    fills, Dropout and DataLoader. Streams repeat within pathgrad (not bit for bit with PyTorch).
    """

    def __init__(self, device: object = "cpu") -> None:
        if device not in ("cpu", None) and str(device) != "cpu":
            raise RuntimeError(f"Generator: pathgrad runs on the CPU only, not {device!r}")
        self._initial_seed = secrets.randbits(63)
        self.numpy = np.random.default_rng(self._initial_seed)

    @property
    def device(self) -> str:
        return "cpu"

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from `seed`; returns the generator, so it chains."""
        self._initial_seed = _check_seed(seed, "manual_seed")
        self.numpy = np.random.default_rng(self._initial_seed)
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy; returns the new seed."""
        self.manual_seed(secrets.randbits(63))
        return self._initial_seed

    def initial_seed(self) -> int:
        return self._initial_seed

    def get_state(self) -> np.ndarray:
        """The stream's position as bytes (uint8), as PyTorch's ByteTensor state; `set_state`
        takes it back. A plain array so that it sits in a checkpoint beside the weights."""
        state = self.numpy.bit_generator.state
        inner = state["state"]
        raw = (
            inner["state"].to_bytes(16, "little")
            + inner["inc"].to_bytes(16, "little")
            + bytes([state["has_uint32"]])
            + state["uinteger"].to_bytes(4, "little")
        )
        return np.frombuffer(raw, dtype=np.uint8).copy()

    def set_state(self, new_state: object) -> Generator:
        raw = bytes(np.asarray(getattr(new_state, "data", new_state), dtype=np.uint8).ravel())
        if len(raw) != _STATE_BYTES:
            raise ValueError(
                f"Generator.set_state: expects the {_STATE_BYTES} bytes get_state returns, got "
                f"{len(raw)}"
            )
        bit_generator = np.random.PCG64()
        bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {
                "state": int.from_bytes(raw[:16], "little"),
                "inc": int.from_bytes(raw[16:32], "little"),
            },
            "has_uint32": raw[32],
            "uinteger": int.from_bytes(raw[33:37], "little"),
        }
        self.numpy = np.random.Generator(bit_generator)
        return self

    def __repr__(self) -> str:
        return f"<pathgrad.Generator seed={self._initial_seed}>"


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Reseed pathgrad's default generator, so rand/randn/randint and normal_/uniform_ repeat.
    Any integer PyTorch takes: from -2**63 to 2**64 - 1, a negative one read as its 64-bit
    two's complement. Returns the default generator, as torch.manual_seed."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> np.ndarray:
    return default_generator.get_state()


def set_rng_state(new_state: object) -> None:
    default_generator.set_state(new_state)


def rng(generator: Generator | None = None, name: str = "") -> np.random.Generator:
    """The NumPy stream to draw from: `generator`'s, or the default one's."""
    if generator is None:
        return default_generator.numpy
    if not isinstance(generator, Generator):
        raise TypeError(
            f"{name or 'generator='}: generator must be a pathgrad.Generator, got "
            f"{type(generator).__name__}"
        )
    return generator.numpy

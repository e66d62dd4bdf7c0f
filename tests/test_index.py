"""Index rules' helpers, torch-free: the scatter-add of repeated positions."""

import numpy as np
import pytest

from pathgrad.ops.index import add_at


@pytest.mark.parametrize(
    "positions",
    [
        lambda rng: (rng.integers(-100, 100, (64, 8)),),  # an embedding lookup, negatives too
        lambda rng: (rng.integers(0, 100, (64, 8)), Ellipsis),
        lambda rng: (rng.integers(0, 100, (64, 1)), rng.integers(-16, 16, (1, 40))),
        lambda rng: (rng.integers(0, 100, (4096,)), slice(None)),
        lambda rng: (slice(None), rng.integers(0, 16, (300,))),  # not leading: the general way
    ],
)
def test_add_at_sums_repeated_positions_as_np_add_at(positions):
    rng = np.random.default_rng(0)
    index = positions(rng)
    target = np.zeros((100, 16), dtype=np.float32)
    values = rng.standard_normal(target[index].shape).astype(np.float32)
    assert values.size >= 2048  # large enough for the flat way where it applies
    expected = target.copy()
    np.add.at(expected, index, values)
    add_at(target, index, values)
    np.testing.assert_array_equal(target, expected)

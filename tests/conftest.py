import numpy as np
import pytest

import pathgrad as pg


def graph_op_names(t) -> set[str]:
    """Names of every op recorded in the graph behind `t`."""
    from pathgrad.autodiff.toposort import reverse_topological_order

    if t.grad_fn is None:
        return set()
    order, _ = reverse_topological_order([t.grad_fn])
    return {node.name for node in order}


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _seeded():
    pg.manual_seed(0)

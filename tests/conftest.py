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


# The PyTorch oracle cannot vanish unnoticed: a test whose code names torch is an oracle test;
# the run ends with how many ran, and with PATHGRAD_REQUIRE_ORACLE=1 (as .ci/run sets) a
# missing torch fails the run instead of skipping them.
_oracle = {"ran": 0, "skipped": 0}


def _is_oracle_test(item) -> bool:
    import inspect

    function = getattr(item, "function", None)
    if function is None:
        return False
    try:
        return "torch" in inspect.getsource(function)
    except (OSError, TypeError):
        return False


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _is_oracle_test(item):
            item.user_properties.append(("oracle", True))


def pytest_sessionstart(session):
    import os

    if os.environ.get("PATHGRAD_REQUIRE_ORACLE") == "1":
        try:
            import torch  # noqa: F401
        except ImportError:
            pytest.exit(
                "PATHGRAD_REQUIRE_ORACLE=1 but torch cannot be imported: the PyTorch oracle "
                "tests would all skip (pip install torch==2.13.0)",
                returncode=3,
            )


def pytest_runtest_logreport(report):
    if ("oracle", True) not in report.user_properties:
        return
    if report.when == "call" and report.passed:
        _oracle["ran"] += 1
    elif report.skipped and report.when in ("setup", "call"):
        _oracle["skipped"] += 1


def pytest_terminal_summary(terminalreporter):
    try:
        import torch

        version = f"torch {torch.__version__}"
    except ImportError:
        version = "torch not installed"
    terminalreporter.write_line(
        f"PyTorch oracle: {_oracle['ran']} tests compared with PyTorch, "
        f"{_oracle['skipped']} skipped ({version})"
    )

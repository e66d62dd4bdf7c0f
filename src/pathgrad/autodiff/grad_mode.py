"""The engine's two switches: whether ops are recorded (per thread), and which variant runs.

Recording is a ContextVar, per thread as PyTorch's (and per asyncio task; a read costs 5 ns more
than a module global, a threading.local 30 ns); `pathgrad.modes` holds the user's switches over
it. The variant, `engine`, is process-wide: the plain engine or anomaly mode's, nodes keeping
their inputs or not (for explain and gradcheck), and `tracing` while pg.compile traces a step.
"""

from __future__ import annotations

import contextvars
from typing import Any

recording = contextvars.ContextVar("pathgrad_recording", default=True)


class EngineVariant:
    """How ops run (`apply(definition, args, kwargs)`), how the sweep runs a node's rule
    (`run_rule(node, grad, wrap, retain_graph)`), and whether nodes keep their inputs."""

    __slots__ = ("apply", "run_rule", "keep_inputs", "tracing")

    def __init__(self) -> None:
        self.apply = self.run_rule = _unbound
        self.keep_inputs = False
        self.tracing: Any = None  # pg.compile's tracer, told of what a plan cannot replay


def _unbound(*args: Any) -> Any:
    raise RuntimeError("pathgrad's engine is not bound: import pathgrad, not a submodule alone")


engine = EngineVariant()


def use_variant(**fields: Any) -> dict:
    """Set some of `engine`'s fields; returns their previous values, to restore them with."""
    if engine.tracing is not None:
        engine.tracing("switching the engine's variant (anomaly mode, a gradcheck)")
    previous = {name: getattr(engine, name) for name in fields}
    for name, value in fields.items():
        setattr(engine, name, value)
    return previous

"""The engine's two switches: whether ops are recorded (per thread), and which variant runs.

Recording is a ContextVar, so per thread as PyTorch's (and per asyncio task): a read costs about
5 ns more than a module global, where a threading.local costs 30 ns. The user's context managers
over it are in `pathgrad.modes`. The variant, `engine`, is process-wide: the plain engine or
anomaly mode's (its own `apply` and `run_rule`), with or without nodes keeping their inputs
(`keep_inputs`, for explain and gradcheck's search for a faulty rule); while pg.compile traces
a step, `tracing` hears of what a plan cannot replay.
"""

from __future__ import annotations

import contextvars
from typing import Any

recording = contextvars.ContextVar("pathgrad_recording", default=True)


def is_grad_enabled() -> bool:
    """Whether ops in this thread are recorded now (off inside `no_grad`)."""
    return recording.get()


class EngineVariant:
    """How ops run (`apply(definition, args, kwargs)`), how the sweep runs a node's rule
    (`run_rule(node, grad, wrap, retain_graph)`), and whether nodes keep their inputs."""

    __slots__ = ("apply", "run_rule", "keep_inputs", "tracing")

    def __init__(self) -> None:
        self.apply = self.run_rule = _unbound
        self.keep_inputs = False
        # while pg.compile traces a step: called with the name of what a plan cannot replay
        # (a hook, retain_grad, a switch of variant), where the engine meets it
        self.tracing: Any = None


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

"""The engine's switches: whether ops are recorded (per thread), and which engine variant runs.

Recording is per thread, as PyTorch's: a thread that evaluates under no_grad() leaves another
thread's training recorded, and a new thread starts with recording on. It is a ContextVar
(each thread has its own context; asyncio tasks too): reading one costs about 5 ns more than
a module global, once per op, where a threading.local costs 30 ns more. The user's context
managers over it are in `pathgrad.modes`.

The variant is process-wide and has one home, `engine`: the plain engine, or anomaly mode's
checking one (which swaps in its own `apply` and `run_rule`), with or without each node keeping
its inputs (`keep_inputs`, for explain and gradcheck's search for a faulty rule).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

recording = contextvars.ContextVar("pathgrad_recording", default=True)


def is_grad_enabled() -> bool:
    """Whether ops in this thread are recorded now (off inside `no_grad`)."""
    return recording.get()


class EngineVariant:
    """How ops run (`apply(definition, args, kwargs)`), how the sweep runs a node's rule
    (`run_rule(node, grad, wrap, retain_graph)`), and whether nodes keep their inputs."""

    __slots__ = ("apply", "run_rule", "keep_inputs")

    def __init__(self) -> None:
        self.apply: Callable[..., Any] = _unbound
        self.run_rule: Callable[..., Any] = _unbound
        self.keep_inputs = False


def _unbound(*args: Any) -> Any:
    raise RuntimeError("pathgrad's engine is not bound: import pathgrad, not a submodule alone")


engine = EngineVariant()


def use_variant(**fields: Any) -> dict:
    """Set some of `engine`'s fields; returns their previous values, to restore them with."""
    previous = {name: getattr(engine, name) for name in fields}
    for name, value in fields.items():
        setattr(engine, name, value)
    return previous

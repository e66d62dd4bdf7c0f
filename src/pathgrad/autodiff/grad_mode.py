"""One switch for recording: no_grad, enable_grad and set_grad_enabled all flip it.

The switch is a module global rather than thread-local state: reading it is on every op's hot
path, and pathgrad runs one graph per process.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

enabled = True


def is_grad_enabled() -> bool:
    return enabled


class set_grad_enabled:
    """Turn recording on or off; usable as a call, a context manager or a decorator."""

    def __init__(self, mode: bool) -> None:
        global enabled
        self.previous = enabled
        self.mode = bool(mode)
        enabled = self.mode

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        global enabled
        enabled = self.previous

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        # Used as a decorator: the switch applies per call, not at decoration time.
        global enabled
        enabled = self.previous
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


class _GradModeContext:
    mode = True

    def __enter__(self) -> None:
        global enabled
        self.previous = enabled
        enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        global enabled
        enabled = self.previous

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        cls = type(self)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with cls():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):
    """Context manager and decorator: ops inside record no graph.

    >>> with pg.no_grad():
    ...     p -= 0.1 * p.grad
    """

    mode = False


class enable_grad(_GradModeContext):
    """Context manager and decorator: recording on, even inside `no_grad`."""

    mode = True

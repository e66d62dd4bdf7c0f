"""The user's switches for recording: no_grad, enable_grad, set_grad_enabled, inference_mode,
each a context manager and a decorator over the engine's one per-thread switch
(`autodiff.grad_mode.recording`)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from pathgrad.autodiff.grad_mode import recording


def is_grad_enabled() -> bool:
    """Whether ops in this thread are recorded now (off inside `no_grad`)."""
    return recording.get()


class set_grad_enabled:
    """Turn recording on or off; usable as a call, a context manager or a decorator."""

    def __init__(self, mode: bool) -> None:
        self.previous = recording.get()
        self.mode = bool(mode)
        recording.set(self.mode)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        recording.set(self.previous)

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        # Used as a decorator: the switch applies per call, not at decoration time.
        recording.set(self.previous)
        return _decorate(fn, self.mode)


class _GradModeContext:
    mode = True

    def __enter__(self) -> None:
        self.previous = recording.get()
        recording.set(self.mode)

    def __exit__(self, *exc: object) -> None:
        recording.set(self.previous)

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        return _decorate(fn, self.mode)


def _decorate(fn: Callable[..., Any], mode: bool) -> Callable[..., Any]:
    """`fn` run with recording set to `mode`: per call, or for a generator function per step,
    as PyTorch (its body runs at each next(), after a plain wrapper has long returned)."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def generator_wrapper(*args: Any, **kwargs: Any) -> Any:
            steps = fn(*args, **kwargs)
            resume = functools.partial(next, steps)
            while True:
                try:
                    with set_grad_enabled(mode):
                        value = resume()
                except StopIteration as stop:
                    return stop.value
                try:
                    sent = yield value
                except GeneratorExit:
                    with set_grad_enabled(mode):
                        steps.close()
                    raise
                except BaseException as error:  # thrown in: the generator may handle it
                    resume = functools.partial(steps.throw, error)
                else:
                    resume = functools.partial(steps.send, sent)

        return generator_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with set_grad_enabled(mode):
            return fn(*args, **kwargs)

    return wrapper


class _BareDecorator(_GradModeContext):
    """`@pg.no_grad` as well as `@pg.no_grad()`, as PyTorch's."""

    def __new__(cls, *args: Any) -> Any:
        if len(args) == 1 and callable(args[0]):
            return _decorate(args[0], cls.mode)
        if args:
            raise TypeError(f"{cls.__name__}() takes no arguments, or the function it decorates")
        return super().__new__(cls)


class no_grad(_BareDecorator):
    """Context manager and decorator: ops inside record no graph.

    >>> p = pg.tensor([1.0, 2.0], requires_grad=True)
    >>> (p * p).sum().backward()
    >>> with pg.no_grad():
    ...     p -= 0.1 * p.grad
    >>> p
    tensor([0.8000, 1.6000], requires_grad=True)
    """

    mode = False


class inference_mode(_GradModeContext):
    """PyTorch's inference_mode, as context manager or decorator: here it is no_grad (pathgrad
    has no per-tensor inference state to save work on); inference_mode(False) changes nothing."""

    def __init__(self, mode: bool = True) -> None:
        self.enabled = bool(mode)

    def __enter__(self) -> None:
        self.previous = recording.get()
        if self.enabled:
            recording.set(False)

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        return _decorate(fn, False) if self.enabled else fn


class enable_grad(_BareDecorator):
    """Context manager and decorator: recording on, even inside `no_grad`."""

    mode = True


__all__ = [
    "enable_grad",
    "inference_mode",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
]

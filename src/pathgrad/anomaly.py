"""Anomaly detection: the first NaN or Inf, forward or backward, stops the program at the op
and the user's line that made it. Off by default and free when off: turning it on swaps in a
checking engine rather than testing a flag on every op."""

from __future__ import annotations

from typing import Any

import numpy as np

from pathgrad.autodiff import backprop
from pathgrad.autodiff.grad_mode import use_variant
from pathgrad.dispatch import apply
from pathgrad.errors import user_frame, user_frame_location
from pathgrad.tensor import Tensor

_enabled = False
_rules_running = 0  # ops run by a gradient rule are checked as the rule's result, not alone

WHERE_TRAP = (
    "If a where(), maximum() or clamp() later masks this value out, the forward result stays "
    "finite but the gradient through the masked branch is 0 * inf = NaN (the where trap). "
    "Compute the branch on safe inputs instead, e.g. "
    "where(x > 0, log(where(x > 0, x, 1.0)), 0.0)."
)


class AnomalyError(RuntimeError):
    """A NaN or Inf appeared where anomaly detection was watching."""


def _describe(values: np.ndarray) -> str:
    kinds = []
    if np.isnan(values).any():
        kinds.append("NaN")
    if np.isposinf(values).any():
        kinds.append("inf")
    if np.isneginf(values).any():
        kinds.append("-inf")
    return " and ".join(kinds)


def _finite(value: Any) -> bool:
    data = value._data if type(value) is Tensor else value
    if isinstance(data, (tuple, list)):
        return all(_finite(v) for v in data)
    array = np.asarray(data)
    return array.dtype.kind not in "fc" or bool(np.isfinite(array).all())


def _checking_apply(definition: Any, args: tuple, kwargs: dict) -> Any:
    result = apply(definition, args, kwargs)
    if _rules_running:
        return result
    node = result.grad_fn
    if node is not None and node.site_code is None:
        # the engine records the line only where a version error can arise; here every node
        # may have to name it
        frame = user_frame()
        if frame is not None:
            node.site_code, node.site_offset = frame.f_code, frame.f_lasti
    site = (node.site if node is not None else "") or user_frame_location()
    data = result._data
    if data.dtype.kind == "f" and not np.isfinite(data).all():
        inputs = args if definition.inputs == "sequence" else args[: definition.inputs]
        if all(_finite(x) for x in inputs):
            raise AnomalyError(
                f"{definition.name} at {site or 'an unknown line'} produced {_describe(data)} "
                f"(output shape {data.shape}) from finite inputs. {WHERE_TRAP}"
            )
    return result


def _checking_rule(node: Any, grad: Any, wrap: Any, retain_graph: bool) -> tuple:
    """The sweep's call of a node's rule (the engine variant's `run_rule`), result checked."""
    global _rules_running
    _rules_running += 1
    try:
        input_grads = backprop.run_rule(node, grad, wrap, retain_graph)
    finally:
        _rules_running -= 1
    if not _finite(grad):
        return input_grads
    for position, input_grad in enumerate(input_grads):
        if input_grad is None or _finite(input_grad):
            continue
        site = node.site or "an unknown line"
        bad = ~np.isfinite(input_grad._data)
        hint = ""
        if grad._data.shape == input_grad._data.shape and np.all(grad._data[bad] == 0):
            hint = (
                " The incoming gradient is 0 exactly where the result is not finite: 0 times "
                f"an infinite local derivative. {WHERE_TRAP}"
            )
        raise AnomalyError(
            f"backward: the rule of {node.name} (made at {site}) turned a finite gradient into "
            f"{_describe(input_grad._data)} for its input {position} (shape "
            f"{input_grad._data.shape}).{hint}"
        )
    return input_grads


def set_detect_anomaly(mode: bool) -> None:
    """Turn anomaly detection on or off for the whole process."""
    global _enabled
    use_variant(  # first: a compiled step's trace refuses the switch, and nothing is changed
        apply=_checking_apply if mode else apply,
        run_rule=_checking_rule if mode else backprop.run_rule,
    )
    _enabled = bool(mode)


def is_anomaly_enabled() -> bool:
    return _enabled


class detect_anomaly:
    """Context manager: stop at the first NaN or Inf, naming the op and the line that made it.

    >>> x = pg.tensor([0.0, 4.0], requires_grad=True)
    >>> with pg.autograd.detect_anomaly():
    ...     x.sqrt().sum().backward()
    Traceback (most recent call last):
    pathgrad.anomaly.AnomalyError: backward: the rule of sqrt ... into inf for its input 0 ...
    """

    def __enter__(self) -> None:
        self.previous = _enabled
        set_detect_anomaly(True)

    def __exit__(self, *exc: object) -> None:
        set_detect_anomaly(self.previous)


__all__ = ["AnomalyError", "detect_anomaly", "is_anomaly_enabled", "set_detect_anomaly"]

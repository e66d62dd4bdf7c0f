"""Optimizer: parameter groups, per-parameter state and its state_dict, as torch.optim's.

Steps change `p._data` in place with NumPy, unrecorded (PyTorch steps under no_grad), and count
the change, so a graph that saved a parameter before the step refuses to run backward after it.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np

from pathgrad import versions
from pathgrad.ops.registry import counted
from pathgrad.tensor import Tensor, from_array


class _RequiredParameter:
    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def changed(p: Tensor, name: str) -> None:
    """Count an optimizer's in-place change of parameter `p`."""
    versions.record_change(p._base if p._base is not None else p, name, None)


class Optimizer:
    """Base of the optimizers: `param_groups` (dicts with "params" and the hyperparameters),
    `state` (per parameter), `zero_grad`, `step`, `state_dict` / `load_state_dict`."""

    def __init__(self, params: Any, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if type(params) is Tensor:
            raise TypeError(
                f"{type(self).__name__}: params argument given to the optimizer should be an "
                "iterable of Tensors or dicts, but got a Tensor"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        params = param_group["params"]
        params = [params] if type(params) is Tensor else list(params)
        for p in params:
            if type(p) is not Tensor:
                raise TypeError(
                    f"{type(self).__name__} can only optimize Tensors, but one of the params is "
                    f"{type(p).__name__}"
                )
            if p.grad_fn is not None:
                raise ValueError(f"{type(self).__name__}: can't optimize a non-leaf Tensor")
        group = {"params": params}
        for name, default in self.defaults.items():
            value = param_group.get(name, default)
            if value is required:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization parameter "
                    f"{name}"
                )
            group[name] = value
        for name, value in param_group.items():
            group.setdefault(name, value)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p._grad is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    p._grad._data[...] = 0

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        raise NotImplementedError

    def _closure_loss(self, closure: Callable[[], Any] | None) -> Any:
        if closure is None:
            return None
        from pathgrad.modes import enable_grad

        with enable_grad():
            return closure()

    # state

    def state_dict(self) -> dict[str, Any]:
        """{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}, PyTorch's
        layout: parameters are numbered in the order the groups hold them."""
        index_of: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            numbers = []
            for p in group["params"]:
                index_of.setdefault(id(p), len(index_of))
                numbers.append(index_of[id(p)])
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = numbers
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state and self.state[p]:
                    state[index_of[id(p)]] = {
                        k: (v.detach().clone() if type(v) is Tensor else copy.deepcopy(v))
                        for k, v in self.state[p].items()
                    }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(groups)} parameter groups, the optimizer "
                f"{len(self.param_groups)}"
            )
        for saved, own in zip(groups, self.param_groups):
            if len(saved["params"]) != len(own["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size of "
                    "optimizer's group"
                )
        params = {}
        for saved, own in zip(groups, self.param_groups):
            for index, p in zip(saved["params"], own["params"]):
                params[int(index)] = p
        self.state = defaultdict(dict)
        for index, values in state_dict["state"].items():
            p = params.get(int(index))
            if p is None:
                continue
            self.state[p] = {k: _state_value(v, p, k) for k, v in values.items()}
        for saved, own in zip(groups, self.param_groups):
            for key, value in saved.items():
                if key != "params":
                    own[key] = tuple(value) if isinstance(own.get(key), tuple) else value

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    def __getstate__(self) -> dict:
        return self.__dict__.copy()


def _state_value(value: Any, p: Tensor, key: str) -> Any:
    """A loaded state value in the parameter's dtype (steps stay as they were saved)."""
    if value is None or isinstance(value, (int, float)):
        return value
    array = np.array(value._data if type(value) is Tensor else value)
    if key != "step" and array.dtype.kind == "f":
        array = array.astype(p._data.dtype)
    return from_array(array)


def grad_of(p: Tensor, maximize: bool) -> np.ndarray:
    g = p._grad._data
    return -g if maximize else g


def step_tensor(state: dict) -> Any:
    """Advance and return the step count, kept as a 0-d float32 tensor as PyTorch keeps it: a
    Python float, or, while pg.compile traces the step, a 0-d float64 array (`counted`)."""
    step = state["step"]
    step._data = count = np.asarray(step._data + np.float32(1))  # a 0-d array, not a scalar
    return counted(count)


__all__ = ["Optimizer", "required"]

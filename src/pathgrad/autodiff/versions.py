"""Version counters for in-place changes, at no cost to graphs that never see one.

A global epoch counts in-place changes. Each node remembers the epoch it was made in, and each
changed tensor's memory (its base) keeps its latest changes. At backward, a node whose epoch is
still current cannot have had a saved tensor changed; only older nodes look at what they saved.
"""

from __future__ import annotations

from collections import deque
from typing import Any, NamedTuple

from pathgrad.errors import saved_tensor_changed_error

epoch = 0
KEPT_CHANGES = 8  # per tensor, for messages: a parameter changed every step keeps no history


class Change(NamedTuple):
    """One in-place change of a tensor's memory, and the version it made."""

    epoch: int
    version: int
    op: str
    site: Any  # an errors.Site (written out when a message needs it) or None


_new_change = tuple.__new__


def record_change(base: Any, op: str, site: Any) -> int:
    """Note an in-place change of `base`'s memory; returns its new version."""
    global epoch
    epoch += 1
    version = base._version_count + 1
    base._version_count = version
    changes = base.__dict__.get("_changes")
    if changes is None:
        changes = base._changes = deque(maxlen=KEPT_CHANGES)
    changes.append(_new_change(Change, (epoch, version, op, site)))  # no Python-level __new__
    return version


# the tensor class, set by pathgrad.tensor at import (the engine sits below it)
tensor_type: Any = None


def saved_tensors(node: Any) -> list:
    """The tensors a node's rule saved: its default arguments (`def vjp(grad, x=x)`), each a
    tensor or a list of them; for a rule of one formula per input, those of the formulas kept."""
    vjp = node.vjp
    found = []
    for rule in vjp if type(vjp) is tuple else (vjp,):
        for value in (rule is not None and rule.__defaults__) or ():
            for item in value if isinstance(value, (tuple, list)) else (value,):
                if type(item) is tensor_type:
                    found.append(item)
    return found


def check_saved(node: Any) -> None:
    """Raise if a tensor the node saved was changed in place after the node was made."""
    if node.__dict__.get("output_changed") is not None:  # the output it saves, by inplace.py
        raise saved_tensor_changed_error(node, None)
    for tensor in saved_tensors(node):
        base = tensor._base if tensor._base is not None else tensor
        changes = base.__dict__.get("_changes")
        if changes and changes[-1].epoch > node.epoch:  # changed since the node was made
            raise saved_tensor_changed_error(node, tensor)

"""Version counters for in-place changes, at no cost to graphs that never see one.

A tensor's state, as PyTorch keeps its version counter with the tensor (TensorImpl) rather
than in autograd: in-place ops, optimisers, init and `.data =` write it here; the engine only
reads it (`autodiff.backprop.check_saved`), as PyTorch's SavedVariable does at unpack.

A global epoch counts in-place changes. Each node remembers the epoch it was made in, and each
changed tensor's memory (its base) keeps its latest changes. At backward, a node whose epoch is
still current cannot have had a saved tensor changed; only older nodes look at what they saved.
"""

from __future__ import annotations

from collections import deque
from typing import Any, NamedTuple

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

"""Where in the user's code an op was called, for error messages that point at a line."""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_frame(depth: int = 1):
    """The innermost frame outside pathgrad, searched outwards from `depth` frames above the
    caller, or None when there is none.

    Frames are probed by depth with sys._getframe, which makes an object only of the frame it
    returns, rather than by walking f_back, which makes one of every frame on the way."""
    depth += 1  # this function's own frame
    while True:
        try:
            frame = sys._getframe(depth)
        except ValueError:  # the whole stack is pathgrad's
            return None
        filename = frame.f_code.co_filename
        if filename in USER_FILES:  # the sorted files first: a set lookup, no call
            return frame
        if filename not in OWN_FILES and not is_own_code(frame.f_code):
            return frame
        depth += 1


def user_frame_location() -> str:
    """`file.py:42` of the innermost caller outside pathgrad, or '' when there is none."""
    frame = user_frame()
    return "" if frame is None else site_location(frame.f_code, frame.f_lasti)


class Site:
    """The user's line an in-place change came from, written out as `file.py:42` only when a
    message needs it: finding the line number scans the code's line table, which costs more
    than the change itself on a small tensor, and almost no change is ever reported."""

    __slots__ = ("code", "offset")

    def __init__(self, code, offset: int) -> None:
        self.code, self.offset = code, offset

    def __str__(self) -> str:
        return site_location(self.code, self.offset)


def user_site() -> Site | None:
    """The innermost caller outside pathgrad as a `Site`, or None when there is none."""
    frame = user_frame()
    return None if frame is None else Site(frame.f_code, frame.f_lasti)


# source files already sorted into pathgrad's own and the user's, so that finding the user's
# frame costs a set lookup per frame (a filename's hash is cached; a code object's is not)
FILE_CACHE_LIMIT = 4096
OWN_FILES: set = set()
USER_FILES: set = set()


def is_own_code(code) -> bool:
    """Whether `code` belongs to pathgrad (cached per source file)."""
    filename = code.co_filename
    if filename in USER_FILES:
        return False
    if filename in OWN_FILES:
        return True
    own = os.path.abspath(filename).startswith(_PACKAGE_DIR)
    known = OWN_FILES if own else USER_FILES
    if len(known) >= FILE_CACHE_LIMIT:  # code compiled anew each time (notebook cells, exec)
        known.clear()
    known.add(filename)
    return own


def site_location(code, offset: int) -> str:
    """`file.py:42` for a recorded (code object, bytecode offset) pair."""
    line = next((ln for start, end, ln in code.co_lines() if start <= offset < end), None)
    line = code.co_firstlineno if line is None else line
    return f"{os.path.basename(code.co_filename)}:{line}"


def op_context(name: str) -> str:
    """`matmul at model.py:42`: the op's name and the user's line that called it."""
    return op_at(name, user_frame_location())


def op_at(name: str, location: object) -> str:
    """`name at location` for a message, or the name alone where no location was found."""
    return f"{name} at {location}" if location else name


class PathgradError(Exception):
    """The base of pathgrad's own error types (each is also the builtin type PyTorch raises)."""


class CheckpointError(PathgradError, ValueError):
    """A file pg.load cannot read as a checkpoint: truncated, altered, or of another format."""


class ShapeError(PathgradError, ValueError):
    """Operands whose shapes do not fit the op (broadcasting, matmul, reshape, ...)."""


class LinAlgError(np.linalg.LinAlgError, RuntimeError):
    """A matrix the op cannot take (singular, not positive definite): caught as NumPy's
    LinAlgError and as PyTorch's (a RuntimeError)."""


class GradientShapeError(RuntimeError):
    """A rule returned a gradient whose shape or dtype differs from its input's: a rule bug."""


class IntegerDivisionError(PathgradError, ZeroDivisionError, RuntimeError):
    """Integer // or % by zero: a ZeroDivisionError, and a RuntimeError as PyTorch raises."""


def made_at(node: Any) -> str:
    """`exp (made at model.py:12)`: a node's op and the user's line that made it."""
    site = node.site
    return f"{node.name} (made at {site})" if site else node.name


def checked_hook_result(hook: Any, grad: Any, replaced: Any, where: str = "") -> Any:
    """A hook's returned gradient, which may change values only: another type, shape or dtype
    is refused by the hook's name here (PyTorch too), not met later as a rule's fault."""
    name = getattr(hook, "__qualname__", None) or repr(hook)
    if type(replaced) is not type(grad):
        raise TypeError(
            f"hook {name} returned a {type(replaced).__name__}; a hook returns a tensor (the new "
            "gradient) or None"
        )
    given, returned = grad._data, replaced._data
    if returned.shape != given.shape or returned.dtype != given.dtype:
        raise RuntimeError(
            f"hook {name}{where} returned a gradient of shape {returned.shape} and dtype "
            f"{returned.dtype} for one of shape {given.shape} and dtype {given.dtype}; a hook "
            "may change the values only"
        )
    return replaced


FREED_GRAPH_MESSAGE = (
    "backward through {name}: its saved values were freed by an earlier backward. Pass "
    "retain_graph=True to the first backward() if you need to go through the graph twice, or "
    "recompute the forward pass."
)


def freed_graph_error(node: Any) -> RuntimeError:
    return RuntimeError(FREED_GRAPH_MESSAGE.format(name=made_at(node)))


def gradient_count_error(node: Any, count: int) -> GradientShapeError:
    return GradientShapeError(
        f"the rule of {node.name} returned {count} gradients for {len(node.parents)} inputs"
    )


def gradient_mismatch_error(node: Any, parent: Any, data: Any, expected: Any) -> Exception:
    """The engine checks and never fixes: a gradient whose shape or dtype is not its input's
    is the rule's bug, named with the input's position."""
    position = next(i for i, p in enumerate(node.parents) if p is parent)
    return GradientShapeError(
        f"the rule of {made_at(node)} returned a gradient of shape {data.shape} and dtype "
        f"{data.dtype} for input {position}, which has shape {expected.shape} and dtype "
        f"{expected.dtype}"
    )


def saved_tensor_changed_error(node: Any, tensor: Any) -> Exception:
    """A tensor a node saved for its rule (None: its output) was changed in place after: the
    gradient would be wrong, so backward stops, naming both lines and the versions (from the
    first change after the node was made, of the few each tensor remembers)."""
    if tensor is None:
        change, base, shape = node.output_changed, node.output_base(), node.shape
        now = change.version if base is None else base._version_count
        versions = f": version {change.version - 1} when saved, version {now} now"
    else:
        base = tensor._base if tensor._base is not None else tensor
        changes, shape = base._changes, tensor._data.shape
        change = next(c for c in changes if c.epoch > node.epoch)
        saved = change.version - 1
        older_dropped = len(changes) == changes.maxlen and changes[0] is change and saved > 0
        saved_text = f"version {saved} or earlier" if older_dropped else f"version {saved}"
        versions = f": {saved_text} when saved, version {base._version_count} now"
    site = node.site
    created = f" (made at {site})" if site else ""
    return RuntimeError(
        f"backward through {node.name}{created}: a tensor of shape {shape} that it saved for "
        f"its gradient was changed in place by {change.op} at {change.site or 'an unknown line'} "
        f"after it was saved{versions}. The gradient would be wrong, so pathgrad stops here. "
        "Change it out of place (x = x * 2 rather than x *= 2), or change a .clone() of it."
    )

"""Where in the user's code an op was called, for error messages that point at a line."""

from __future__ import annotations

import os
import sys

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_frame_location() -> str:
    """`file.py:42` of the innermost caller outside pathgrad, or '' when there is none."""
    frame = sys._getframe(1)
    while frame is not None:
        if not is_own_code(frame.f_code):
            return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"
        frame = frame.f_back
    return ""


# code objects already sorted into pathgrad's own and the user's, so that recording where a
# node was made costs a set lookup per frame rather than a path comparison
CODE_CACHE_LIMIT = 4096
OWN_CODE: set = set()
USER_CODE: set = set()


def is_own_code(code) -> bool:
    """Whether `code` belongs to pathgrad (cached per code object)."""
    if code in USER_CODE:
        return False
    if code in OWN_CODE:
        return True
    own = os.path.abspath(code.co_filename).startswith(_PACKAGE_DIR)
    known = OWN_CODE if own else USER_CODE
    if len(known) >= CODE_CACHE_LIMIT:  # code compiled anew each time (notebook cells, exec)
        known.clear()
    known.add(code)
    return own


def site_location(code, offset: int) -> str:
    """`file.py:42` for a recorded (code object, bytecode offset) pair."""
    line = next((ln for start, end, ln in code.co_lines() if start <= offset < end), None)
    line = code.co_firstlineno if line is None else line
    return f"{os.path.basename(code.co_filename)}:{line}"


def op_context(name: str) -> str:
    """`matmul at model.py:42`: the op's name and the user's line that called it."""
    location = user_frame_location()
    return f"{name} at {location}" if location else name


class ShapeError(ValueError):
    """Operands whose shapes do not fit the op (broadcasting, matmul, reshape, ...)."""


class GradientShapeError(RuntimeError):
    """A rule returned a gradient whose shape or dtype differs from its input's: a rule bug."""

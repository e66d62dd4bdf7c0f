"""Where in the user's code an op was called, for error messages that point at a line."""

from __future__ import annotations

import os
import sys

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_frame_location() -> str:
    """`file.py:42` of the innermost caller outside pathgrad, or '' when there is none."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(_PACKAGE_DIR):
            return f"{os.path.basename(filename)}:{frame.f_lineno}"
        frame = frame.f_back
    return ""


def op_context(name: str) -> str:
    """`matmul at model.py:42`: the op's name and the user's line that called it."""
    location = user_frame_location()
    return f"{name} at {location}" if location else name


class ShapeError(ValueError):
    """Operands whose shapes do not fit the op (broadcasting, matmul, reshape, ...)."""


class GradientShapeError(RuntimeError):
    """A rule returned a gradient whose shape or dtype differs from its input's: a rule bug."""

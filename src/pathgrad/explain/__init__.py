"""Show the work: derivations of gradients element by element, exact rule checks, and grading
of hand-derived gradients (symbolic algebra from SymPy: pip install 'pathgrad[explain]')."""

from pathgrad.explain.check import GradComparison, check_grad, check_grads
from pathgrad.explain.derivation import ExplainError, Explanation, explain, recording

explain.recording = recording  # type: ignore[attr-defined]  # pg.explain.recording()

__all__ = [
    "ExplainError",
    "Explanation",
    "GradComparison",
    "check_grad",
    "check_grads",
    "explain",
    "recording",
]

"""Show the work: derivations of gradients element by element, exact rule checks and
grading of hand-derived gradients (symbolic algebra from SymPy, the `explain` extra)."""

"""`pg.compile`: run a step once while recording every NumPy call it makes, then replay that
record, a flat plan of NumPy calls, on later calls with the same signature.

Tracing is an eager run. The arrays of the tensors the step can reach (its arguments, its
modules' parameters and buffers, its optimisers' state, the parameters' `.grad`) are swapped
for `Traced` views of the same memory; every NumPy call that touches one (a ufunc, a NumPy
function, an ndarray method, an index) computes as usual and is written down as one step over
numbered slots. Nothing in the engine knows: nodes, versions and the sweep run as ever, and
only the NumPy calls they make end up in the plan. The plan is then pruned (calls whose
results nothing uses), folded (calls on constants become constants), broadcasts before an
elementwise call are left to NumPy, and it is written out as one Python function whose lines
are the NumPy calls, which is what a later call runs.
"""

from pathgrad.compiled.function import CacheInfo, CompiledFunction, compile
from pathgrad.compiled.tracing import CompileError, Traced

__all__ = ["CacheInfo", "CompileError", "CompiledFunction", "Traced", "compile"]

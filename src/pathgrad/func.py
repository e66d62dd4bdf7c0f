"""Function transforms, JAX-style, over any function built from pathgrad's ops: `grad`,
`value_and_grad`, `vjp`, `jvp`, `jacobian` (`jacrev`, `jacfwd`), `hessian`, `hvp`.

Arguments and results may be tensors, ndarrays, Python floats, or tuples, lists and dicts of
them; ndarrays in give ndarrays out. Transforms nest (`hessian` is `jacobian(grad(f))`): when an
argument already requires grad, the result keeps its graph so an outer transform can
differentiate it again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from pathgrad import autograd
from pathgrad.errors import ShapeError
from pathgrad.modes import enable_grad, no_grad
from pathgrad.ops.shape import reshape, stack
from pathgrad.tensor import Tensor, from_array

__all__ = ["grad", "hessian", "hvp", "jacfwd", "jacobian", "jacrev", "jvp", "value_and_grad", "vjp"]


def _flatten(tree: Any) -> tuple[list, Any]:
    """The leaves of a tuple/list/dict tree, and what it takes to rebuild it."""
    if isinstance(tree, (tuple, list)):
        leaves, specs = [], []
        for item in tree:
            item_leaves, spec = _flatten(item)
            leaves.extend(item_leaves)
            specs.append((len(item_leaves), spec))
        return leaves, (type(tree), specs)
    if isinstance(tree, dict):
        keys = list(tree)
        leaves, spec = _flatten([tree[k] for k in keys])
        return leaves, (dict, keys, spec)
    return [tree], None


def _unflatten(spec: Any, leaves: Sequence) -> Any:
    if spec is None:
        return leaves[0]
    if spec[0] is dict:
        _, keys, inner = spec
        return dict(zip(keys, _unflatten(inner, leaves)))
    kind, specs = spec
    items, start = [], 0
    for count, item_spec in specs:
        items.append(_unflatten(item_spec, leaves[start : start + count]))
        start += count
    return kind(items)


class _Arguments:
    """The differentiated arguments as leaf tensors, and how to give results back in kind."""

    def __init__(self, args: tuple, argnums: tuple[int, ...], transform: str) -> None:
        for n in argnums:
            if not -len(args) <= n < len(args):
                raise IndexError(
                    f"{transform}: argnums {n} is out of range for a function called with "
                    f"{len(args)} positional arguments"
                )
        self.argnums = tuple(n % len(args) for n in argnums)
        self.numpy_in = True
        self.nested = False
        self.args = list(args)
        self.specs = {}
        self.leaves: list[Tensor] = []
        for n in self.argnums:
            leaves, spec = _flatten(args[n])
            made = [self._leaf(value, transform) for value in leaves]
            self.specs[n] = (spec, len(self.leaves), len(made))
            self.leaves.extend(made)
            self.args[n] = _unflatten(spec, made)

    def _leaf(self, value: Any, transform: str) -> Tensor:
        if type(value) is Tensor:
            self.numpy_in = False
            if value.requires_grad:
                self.nested = True  # an outer transform differentiates through us
                return value
            data = value._data
        else:
            data = np.asarray(value)
            if data.dtype.kind in "iub":
                raise TypeError(
                    f"{transform}: cannot differentiate with respect to integer or bool data "
                    f"({data.dtype}); pass floating-point values"
                )
            if data.dtype.kind != "f":
                raise TypeError(f"{transform}: cannot differentiate {type(value).__name__} values")
        return from_array(data, requires_grad=True)

    def per_argnum(self, flat: Sequence[Any]) -> list[Any]:
        """Flat per-leaf results regrouped as the differentiated arguments were."""
        grouped = []
        for n in self.argnums:
            spec, start, count = self.specs[n]
            grouped.append(_unflatten(spec, [self.out(v) for v in flat[start : start + count]]))
        return grouped

    def out(self, value: Any) -> Any:
        if type(value) is Tensor and self.numpy_in:
            return value._data
        return value


def _single_or_tuple(argnums: int | Sequence[int], results: list) -> Any:
    return results[0] if isinstance(argnums, int) else tuple(results)


def _as_argnums(argnums: int | Sequence[int]) -> tuple[int, ...]:
    return (argnums,) if isinstance(argnums, int) else tuple(argnums)


def _scalar_output(out: Any, transform: str) -> Tensor:
    if type(out) is not Tensor:
        raise TypeError(
            f"{transform}: the function must return a scalar tensor, got {type(out).__name__}"
        )
    if out._data.size != 1:
        raise ValueError(
            f"{transform}: the function must return a scalar, got shape {out.shape}; use "
            "pg.jacobian for vector outputs, or pg.vjp to weight them"
        )
    return out


def _gradients(outputs: list, leaves: list, seeds: list | None, create_graph: bool) -> list:
    """d outputs / d leaves, zeros for leaves the outputs do not use."""
    wanted = [o for o in outputs if o.requires_grad]
    if not wanted:
        return [from_array(np.zeros_like(leaf._data)) for leaf in leaves]
    grads = autograd.grad(
        wanted,
        leaves,
        grad_outputs=None
        if seeds is None
        else [s for s, o in zip(seeds, outputs) if o.requires_grad],
        retain_graph=True,
        create_graph=create_graph,
        allow_unused=True,
    )
    return [
        from_array(np.zeros_like(leaf._data)) if g is None else g for g, leaf in zip(grads, leaves)
    ]


def value_and_grad(
    f: Callable[..., Any], argnums: int | Sequence[int] = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """f's value and its gradient with respect to argument(s) `argnums`; f returns a scalar
    (or `(scalar, aux)` with `has_aux=True`).

    >>> value, g = pg.value_and_grad(lambda x: (x * x).sum())(np.array([1.0, 2.0]))
    """

    def transformed(*args: Any) -> Any:
        arguments = _Arguments(args, _as_argnums(argnums), "grad")
        with enable_grad():
            result = f(*arguments.args)
            out, aux = result if has_aux else (result, None)
            out = _scalar_output(out, "grad")
            grads = _gradients([out], arguments.leaves, None, create_graph=arguments.nested)
        value = arguments.out(out if arguments.nested else out.detach())
        gradient = _single_or_tuple(argnums, arguments.per_argnum(grads))
        return ((value, aux), gradient) if has_aux else (value, gradient)

    return transformed


def grad(
    f: Callable[..., Any], argnums: int | Sequence[int] = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """The gradient of scalar-valued `f` with respect to argument(s) `argnums`.

    >>> pg.grad(lambda x: (x ** 3).sum())(np.array([1.0, 2.0]))
    array([ 3., 12.])
    """
    both = value_and_grad(f, argnums, has_aux)

    def transformed(*args: Any) -> Any:
        value, gradient = both(*args)
        return (gradient, value[1]) if has_aux else gradient

    return transformed


def vjp(f: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., tuple]]:
    """f(*primals) and a function taking output cotangents to one gradient per primal.

    >>> out, vjp_fn = pg.vjp(lambda x: x * 2, np.ones(3))
    >>> vjp_fn(np.ones(3))
    (array([2., 2., 2.]),)
    """
    arguments = _Arguments(primals, tuple(range(len(primals))), "vjp")
    with enable_grad():
        out = f(*arguments.args)
    outputs, out_spec = _flatten(out)

    def vjp_fn(cotangents: Any) -> tuple:
        seeds, seed_spec = _flatten(cotangents)
        if len(seeds) != len(outputs):
            raise ValueError(f"vjp: {len(seeds)} cotangents for {len(outputs)} outputs")
        seeds = [
            s if type(s) is Tensor else from_array(np.asarray(s, dtype=o.dtype))
            for s, o in zip(seeds, outputs)
        ]
        with enable_grad():
            grads = _gradients(outputs, arguments.leaves, seeds, create_graph=arguments.nested)
        return tuple(arguments.per_argnum(grads))

    primal_out = _unflatten(
        out_spec, [arguments.out(o if arguments.nested else o.detach()) for o in outputs]
    )
    return primal_out, vjp_fn


def _tangent_leaves(tangents: Sequence[Any]) -> list[Tensor]:
    """The leaves of the tangent trees, as tensors, in the primals' leaf order."""
    leaves = []
    for tangent in tangents:
        for value in _flatten(tangent)[0]:
            leaves.append(value if type(value) is Tensor else from_array(np.asarray(value)))
    return leaves


def _as_tuple(values: Any) -> tuple:
    """Primals or tangents: a sequence of them, or one tensor standing alone."""
    return (values,) if type(values) is Tensor or isinstance(values, np.ndarray) else tuple(values)


def _check_tangents(name: str, leaves: list, directions: list) -> None:
    """Each tangent has its primal's shape: a smaller one would broadcast, silently wrong."""
    if len(leaves) != len(directions):
        raise ValueError(f"{name}: {len(leaves)} primal tensors but {len(directions)} tangents")
    for position, (leaf, direction) in enumerate(zip(leaves, directions)):
        if tuple(direction.shape) != tuple(leaf.shape):
            raise ShapeError(
                f"{name}: tangent {position} has shape {tuple(direction.shape)}, its primal "
                f"{tuple(leaf.shape)}; they must match"
            )


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """(f(*primals), J @ tangents): the forward-mode product, by the double-VJP trick (the VJP is
    linear in its cotangent, so differentiating it with respect to the cotangent gives J t)."""
    primals, tangents = _as_tuple(primals), _as_tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    arguments = _Arguments(primals, tuple(range(len(primals))), "jvp")
    tangent_leaves = _tangent_leaves(tangents)
    _check_tangents("jvp", arguments.leaves, tangent_leaves)
    with enable_grad():
        out = f(*arguments.args)
        outputs, out_spec = _flatten(out)
        dummies = [from_array(np.zeros_like(o._data), requires_grad=True) for o in outputs]
        pulled = _gradients(outputs, arguments.leaves, dummies, create_graph=True)
        linear = [p for p in pulled if p.requires_grad]
        weights = [t.to(p.dtype) for p, t in zip(pulled, tangent_leaves) if p.requires_grad]
        if linear:
            pushed = autograd.grad(
                linear,
                dummies,
                grad_outputs=weights,
                allow_unused=True,
                create_graph=arguments.nested,
            )
        else:
            pushed = [None] * len(dummies)
    tangent_out = [
        from_array(np.zeros_like(o._data)) if p is None else p for p, o in zip(pushed, outputs)
    ]
    value = [o if arguments.nested else o.detach() for o in outputs]
    return (
        _unflatten(out_spec, [arguments.out(v) for v in value]),
        _unflatten(out_spec, [arguments.out(t) for t in tangent_out]),
    )


def _assemble(pieces: list[Tensor], out_shape: tuple, in_shape: tuple, axis: int) -> Tensor:
    """A Jacobian of shape out_shape + in_shape from one gradient per output element (rows,
    axis 0) or one forward product per input element (columns, axis 1)."""
    if not pieces:
        return from_array(np.zeros(out_shape + in_shape))
    return reshape(stack([p.reshape(-1) for p in pieces], axis), out_shape + in_shape)


def _tensor_outputs(f: Callable[..., Any], arguments: _Arguments) -> tuple[list[Tensor], Any]:
    """f's outputs as a flat list of tensors, and the structure to rebuild them in."""
    outputs, spec = _flatten(f(*arguments.args))
    for out in outputs:
        if type(out) is not Tensor:
            raise TypeError(
                "jacobian: the function must return tensors (or tuples, lists and dicts of "
                f"them), not {type(out).__name__}"
            )
    return outputs, spec


def _jacobians_in_kind(
    outputs: list, out_spec: Any, pieces: list, axis: int, arguments: _Arguments, argnums: Any
) -> Any:
    """One Jacobian per output and differentiated leaf, assembled from `pieces[k][leaf]` (rows,
    axis 0, or columns, axis 1), given back in the outputs' and the arguments' structure."""
    per_output = []
    for out, out_pieces in zip(outputs, pieces):
        jacobians = [
            _assemble(piece, out.shape, leaf.shape, axis)
            for piece, leaf in zip(out_pieces, arguments.leaves)
        ]
        per_output.append(_single_or_tuple(argnums, arguments.per_argnum(jacobians)))
    return _unflatten(out_spec, per_output)


def jacrev(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """The Jacobian by reverse mode, one VJP per output element: shape out.shape + in.shape,
    for each output of a tuple/list/dict of them (the Jacobians in that structure)."""

    def transformed(*args: Any) -> Any:
        arguments = _Arguments(args, _as_argnums(argnums), "jacobian")
        with enable_grad():
            outputs, out_spec = _tensor_outputs(f, arguments)
            # rows[k][leaf] lists, for output k, J's rows for that leaf: one VJP per element
            rows = [[[] for _ in arguments.leaves] for _ in outputs]
            for out, out_rows in zip(outputs, rows):
                flat_out = out.reshape(-1)
                for i in range(out._data.size):
                    grads = _gradients(
                        [flat_out[i]], arguments.leaves, None, create_graph=arguments.nested
                    )
                    for row, g in zip(out_rows, grads):
                        row.append(g)
        return _jacobians_in_kind(outputs, out_spec, rows, 0, arguments, argnums)

    return transformed


def jacfwd(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """The Jacobian by forward mode, one JVP per input element: cheaper than `jacrev` when
    the inputs are fewer than the outputs. Outputs may be a tuple/list/dict of tensors."""

    def transformed(*args: Any) -> Any:
        arguments = _Arguments(args, _as_argnums(argnums), "jacobian")
        with enable_grad():
            outputs, out_spec = _tensor_outputs(f, arguments)
            dummies = [from_array(np.zeros_like(out._data), requires_grad=True) for out in outputs]
            pulled = _gradients(outputs, arguments.leaves, dummies, create_graph=True)
            # columns[k][leaf] lists, for output k, J's columns for that leaf's elements
            columns = [[[] for _ in arguments.leaves] for _ in outputs]
            for position, (leaf, p) in enumerate(zip(arguments.leaves, pulled)):
                for j in range(leaf._data.size):
                    basis = np.zeros(leaf._data.size, dtype=leaf.dtype)
                    basis[j] = 1
                    pushed = [None] * len(outputs)
                    if p.requires_grad:
                        pushed = autograd.grad(
                            [p],
                            dummies,
                            grad_outputs=[from_array(basis.reshape(leaf.shape))],
                            retain_graph=True,
                            allow_unused=True,
                            create_graph=arguments.nested,
                        )
                    for k, (column, out) in enumerate(zip(pushed, outputs)):
                        zero = from_array(np.zeros_like(out._data))
                        columns[k][position].append(zero if column is None else column)
        return _jacobians_in_kind(outputs, out_spec, columns, 1, arguments, argnums)

    return transformed


def jacobian(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """The Jacobian of `f` (shape out.shape + in.shape), by reverse mode, or by forward mode
    when the differentiated inputs have fewer elements than the outputs."""

    def transformed(*args: Any) -> Any:
        arguments = _Arguments(args, _as_argnums(argnums), "jacobian")
        in_size = sum(leaf._data.size for leaf in arguments.leaves)
        with no_grad():  # only the outputs' size is wanted here, to pick the mode
            probe = _flatten(f(*arguments.args))[0]
        out_size = sum(np.size(o._data if type(o) is Tensor else o) for o in probe)
        mode = jacfwd if in_size < out_size else jacrev
        return mode(f, argnums)(*args)

    return transformed


def hessian(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """The Hessian of scalar-valued `f`: the Jacobian of its gradient.

    >>> A = np.array([[1.0, 2.0], [0.0, 3.0]])
    >>> pg.hessian(lambda x: x @ pg.tensor(A) @ x)(np.ones(2))  # A + A.T
    array([[2., 2.],
           [2., 6.]])
    """
    return jacrev(grad(f, argnums), argnums)


def hvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """(f(*primals), H @ tangents) for scalar-valued `f`, reverse over reverse: about the cost
    of three gradients, with no Hessian formed."""
    primals, tangents = _as_tuple(primals), _as_tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"hvp: {len(primals)} primals but {len(tangents)} tangents")
    arguments = _Arguments(primals, tuple(range(len(primals))), "hvp")
    directions = _tangent_leaves(tangents)
    _check_tangents("hvp", arguments.leaves, directions)
    with enable_grad():
        out = _scalar_output(f(*arguments.args), "hvp")
        grads = _gradients([out], arguments.leaves, None, create_graph=True)
        inner = None
        for g, v in zip(grads, directions):
            term = (g * v.to(g.dtype)).sum()
            inner = term if inner is None else inner + term
        products = _gradients([inner], arguments.leaves, None, create_graph=arguments.nested)
    value = arguments.out(out if arguments.nested else out.detach())
    return value, tuple(arguments.per_argnum(products))

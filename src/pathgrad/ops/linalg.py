"""Matrix products. One primitive, for operands of two or more dims whose batch dims already
agree; `matmul` handles NumPy's other cases (1-D operands, broadcast batch dims) around it.
Einstein summation likewise: one primitive for explicit equations, `einsum` around it."""

from __future__ import annotations

import math
import string

import numpy as np

from pathgrad.autodiff.grad_mode import engine
from pathgrad.errors import ShapeError, op_context
from pathgrad.ops.broadcast import broadcast_shapes, expand_as_needed
from pathgrad.ops.index import index_select
from pathgrad.ops.reduce import norm
from pathgrad.ops.registry import as_tensor, needs_grad, op
from pathgrad.ops.shape import (
    cat,
    expand,
    meshgrid,
    permute,
    reshape,
    squeeze,
    stack,
    transpose,
    unsqueeze,
)


@op(
    "matmul",
    inputs=2,
    rule="dL/da = dL/dout @ b^T; dL/db = a^T @ dL/dout",
)
def batched_matmul(a, b, transpose_a=False, transpose_b=False):
    """a @ b for a (..., n, k) and b (..., k, m), either taken transposed in its last two dims.
    Every operand that needs a gradient already has the full batch shape, so no rule reduces;
    the transposed forms let the rule be products alone, with no transpose ops."""

    if not (transpose_a or transpose_b):  # the seed derivation, closing over nothing: cheaper
        return np.matmul(a._data, b._data), (
            lambda grad, b=b: batched_matmul(grad, b, False, True),  # dL/da = dL/dout @ b^T
            lambda grad, a=a: batched_matmul(a, grad, True, False),  # dL/db = a^T @ dL/dout
        )

    # for C = A'B' (A' = A or A^T, B' likewise): dL/dA' = dL/dC B'^T and dL/dB' = A'^T dL/dC;
    # an operand taken transposed gets the transposed gradient
    def grad_a(grad, b=b):
        if transpose_a:
            return batched_matmul(b, grad, transpose_b, True)  # (G B'^T)^T = B' G^T
        return batched_matmul(grad, b, False, not transpose_b)

    def grad_b(grad, a=a):
        if transpose_b:
            return batched_matmul(grad, a, True, transpose_a)  # (A'^T G)^T = G^T A'
        return batched_matmul(a, grad, not transpose_a, False)

    a_data = a._data.swapaxes(-2, -1) if transpose_a else a._data
    b_data = b._data.swapaxes(-2, -1) if transpose_b else b._data
    return np.matmul(a_data, b_data), (grad_a, grad_b)


_BATCHED_MATMUL = batched_matmul.definition
_NO_KWARGS: dict = {}


def matmul(a, b):
    """Matrix product with NumPy's rules: 1-D with 1-D (dot), 1-D with N-D, N-D with 1-D, and
    N-D batched with broadcast batch dims."""
    a, b = as_tensor(a), as_tensor(b)
    a_data, b_data = a._data, b._data
    a_shape, b_shape = a_data.shape, b_data.shape
    if len(a_shape) == 2 and len(b_shape) == 2 and a_data.dtype == b_data.dtype:
        if a_shape[1] != b_shape[0]:
            _inner_mismatch(a_shape, b_shape)
        # the engine called as batched_matmul's wrapper would call it, one call less on the
        # commonest product; the user's line is then two frames up, where the engine looks first
        return engine.apply(_BATCHED_MATMUL, (a, b), _NO_KWARGS)
    if not a_shape or not b_shape:
        raise ShapeError(
            f"{op_context('matmul')}: {a_shape} @ {b_shape}: both operands need at least one "
            "dimension (use * for a scalar)"
        )
    if a_shape[-1] != b_shape[-2 if len(b_shape) > 1 else 0]:
        _inner_mismatch(a_shape, b_shape)
    left = unsqueeze(a, 0) if len(a_shape) == 1 else a
    right = unsqueeze(b, 1) if len(b_shape) == 1 else b
    batch = broadcast_shapes("matmul", left._data.shape[:-2], right._data.shape[:-2])
    dtype = np.result_type(a._data.dtype, b._data.dtype)
    left, right = (
        expand_as_needed(t, batch + t._data.shape[-2:], dtype) if needs_grad(t) else t
        for t in (left, right)
    )
    out = batched_matmul(left, right)
    if len(a_shape) == 1 and len(b_shape) == 1:
        return reshape(out, ())
    if len(a_shape) == 1:
        return squeeze(out, -2)
    if len(b_shape) == 1:
        return squeeze(out, -1)
    return out


def _inner_mismatch(a_shape, b_shape):
    inner_a = a_shape[-1]
    inner_b = b_shape[-2] if len(b_shape) > 1 else b_shape[0]
    raise ShapeError(
        f"{op_context('matmul')}: {a_shape} @ {b_shape}: inner dimensions {inner_a} and "
        f"{inner_b} differ"
    )


def _matmul_of_rank(op_name: str, a, b, rank: int, what: str):
    """matmul for PyTorch's fixed-rank names (dot, mm, bmm), which refuse other ranks."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim != rank or b.ndim != rank or (rank == 3 and a.shape[0] != b.shape[0]):
        raise ShapeError(f"{op_context(op_name)}: expects {what}, got {a.shape} and {b.shape}")
    inner = -1 if rank == 1 else -2
    if a.shape[-1] != b.shape[inner]:
        raise ShapeError(
            f"{op_context(op_name)}: sizes {a.shape[-1]} and {b.shape[inner]} of {a.shape} and "
            f"{b.shape} must match"
        )
    return matmul(a, b)


def dot(a, b):
    """Inner product of two 1-D tensors."""
    return _matmul_of_rank("dot", a, b, 1, "two 1-D tensors")


def outer(a, b):
    """a[i] * b[j] for 1-D a and b (anything else is an error, as PyTorch's)."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim != 1 or b.ndim != 1:
        raise ShapeError(
            f"{op_context('outer')}: expects two 1-D tensors, got shapes {a.shape} and {b.shape}"
        )
    return unsqueeze(a, 1) * unsqueeze(b, 0)


def mm(a, b):
    """Matrix product of two 2-D tensors (PyTorch's mm: no broadcasting, no 1-D operands)."""
    return _matmul_of_rank("mm", a, b, 2, "two 2-D tensors")


def bmm(a, b):
    """Batched product of two 3-D tensors with the same batch size (PyTorch's bmm)."""
    return _matmul_of_rank("bmm", a, b, 3, "two 3-D tensors with one batch size")


def t(x):
    """The transpose of a tensor of at most 2 dims (PyTorch's t)."""
    x = as_tensor(x)
    if x.ndim > 2:
        raise ShapeError(f"{op_context('t')}: expects at most 2 dims, got shape {x.shape}; use mT")
    return transpose(x, 0, 1) if x.ndim == 2 else x


# ASCII order, so sorting subscripts sorts them as PyTorch's implicit output does (capitals first)
_LETTERS = string.ascii_uppercase + string.ascii_lowercase


@op(
    "einsum",
    inputs="sequence",
    rule="dL/dtensors[i] = einsum of dL/dout with the other operands, into tensors[i]'s indices",
)
def einsum_explicit(tensors, equation):
    """einsum for an equation in explicit form (`->` given, no `...`), whose operands that need
    gradients already have every subscript's full size; `einsum` brings any call to this form.
    Its rule is an einsum too, so it differentiates to any order."""
    inputs, output = equation.split("->")
    terms = inputs.split(",")
    arrays = [t._data for t in tensors]
    out = np.asarray(np.einsum(equation, *arrays, optimize=len(arrays) > 1))
    if any(np.may_share_memory(out, a) for a in arrays):
        out = (
            out.copy()
        )  # einsum returns views for transposes and diagonals; an op's output owns its memory
    sizes: dict[str, int] = {}
    for term, a in zip(terms, arrays):
        for letter, size in zip(term, a.shape):
            sizes[letter] = max(size, sizes.get(letter, 1))
    # dL/dx_i[term_i] = sum over the other letters of grad[output] * (the other operands): the
    # same sum with x_i's place taken by grad, product along a path, sum across paths
    return out, tuple(
        lambda grad, tensors=tensors, position=position: _einsum_operand_grad(
            grad, position, tensors, terms, output, sizes
        )
        for position in range(len(tensors))
    )


def _einsum_operand_grad(grad, position, tensors, terms, output, sizes):
    operands = [grad] + [t for i, t in enumerate(tensors) if i != position]
    subscripts = [output] + [s for i, s in enumerate(terms) if i != position]
    reached: dict[str, int] = {}  # each letter's largest size among the others: 1 if broadcast
    for subscript, t in zip(subscripts, operands):
        for letter, size in zip(subscript, t._data.shape):
            reached[letter] = max(size, reached.get(letter, 0))
    spare = iter(letter for letter in _LETTERS if letter not in sizes)
    dtype = grad._data.dtype
    target = []
    for letter in terms[position]:
        if letter in target:
            # a repeated subscript reads a diagonal: eye(n) puts the gradient back on it
            twin = next(spare)
            target.append(twin)
            operands.append(as_tensor(np.eye(sizes[letter], dtype=dtype)))
            subscripts.append(letter + twin)
        else:
            target.append(letter)
    for letter in dict.fromkeys(terms[position]):
        if reached.get(letter, 0) < sizes[letter]:
            # summed away in the forward and seen nowhere else, or only in an operand broadcast
            # along it (which needs no gradient, so was not expanded): the gradient is constant
            # along it
            operands.append(as_tensor(np.ones(sizes[letter], dtype=dtype)))
            subscripts.append(letter)
    return einsum_explicit(operands, ",".join(subscripts) + "->" + "".join(target))


def einsum(*args):
    """Einstein summation, as PyTorch's and NumPy's: `einsum("ij,jk->ik", a, b)` is `a @ b`,
    `einsum("ii", a)` the trace, `einsum("bi,bi->b", x, y)` a row-wise dot product.

    Subscripts are letters; `...` stands for the remaining dims, which broadcast; without `->`,
    the output is `...` then the letters used once, sorted. Operands may come as one list, or in
    PyTorch's sublist form `einsum(a, [0, 1], b, [1, 2], [0, 2])`. Dims of size 1 broadcast;
    an output without `...` sums those dims (PyTorch; NumPy refuses).
    """
    equation, operands = _einsum_arguments(args)
    operands = [as_tensor(t) for t in operands]
    terms, output = _einsum_terms(equation, len(operands))
    # `...` becomes spare letters, right-aligned as broadcasting aligns dims
    spare = [letter for letter in _LETTERS if letter not in equation]
    ellipsis_dims = []
    for position, (term, t) in enumerate(zip(terms, operands)):
        named = len(term.replace("...", ""))
        if ("..." in term and t.ndim < named) or ("..." not in term and t.ndim != named):
            _einsum_error(
                f"operand {position} has shape {t.shape}, but its subscripts {term!r} name "
                f"{named} dims{'' if '...' in term else ' and have no ...'}"
            )
        ellipsis_dims.append(t.ndim - named)
    broadcast_letters = "".join(spare[: max(ellipsis_dims, default=0)])
    if output is None:
        once = [letter for letter in set(equation) if equation.count(letter) == 1]
        output = "..." + "".join(sorted(letter for letter in once if letter.isalpha()))
    for letter in output.replace("...", ""):
        if output.count(letter) > 1:
            _einsum_error(f"output subscript {letter} appears more than once in {equation!r}")
        if letter not in "".join(terms):
            _einsum_error(
                f"output subscript {letter} is in no operand's subscripts in {equation!r}"
            )
    terms = [
        term.replace("...", broadcast_letters[len(broadcast_letters) - dims :])
        for term, dims in zip(terms, ellipsis_dims)
    ]
    output = output.replace("...", broadcast_letters)
    sizes = _einsum_sizes(terms, operands)
    operands = [
        expand_as_needed(t, tuple(sizes[letter] for letter in term), t._data.dtype)
        if needs_grad(t)
        else t
        for term, t in zip(terms, operands)
    ]
    return einsum_explicit(operands, ",".join(terms) + "->" + output)


def _einsum_arguments(args):
    """(equation, operands) from either of PyTorch's forms of call."""
    if not args:
        raise TypeError("einsum: expected an equation and tensors")
    if isinstance(args[0], str):
        operands = args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
        return args[0].replace(" ", ""), operands
    # sublist form: operand, sublist, operand, sublist, ..., [output sublist]
    operands, sublists = args[0::2], list(args[1::2])
    output = None
    if len(args) % 2:
        operands, output = args[0:-1:2], args[-1]
    equation = ",".join(_sublist_subscripts(s) for s in sublists)
    if output is not None:
        equation += "->" + _sublist_subscripts(output)
    return equation, operands


def _sublist_subscripts(sublist):
    subscripts = []
    for label in sublist:
        if label is Ellipsis:
            subscripts.append("...")
        elif isinstance(label, int) and not isinstance(label, bool) and 0 <= label < 52:
            subscripts.append(_LETTERS[label])
        else:
            _einsum_error(f"sublist labels are ints in [0, 52) or ..., got {label!r}")
    return "".join(subscripts)


def _einsum_terms(equation, count):
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    if len(terms) != count:
        _einsum_error(f"{equation!r} has subscripts for {len(terms)} operands, got {count}")
    for part in terms + ([output] if arrow else []):
        rest = part.replace("...", "", 1)
        if not all(letter in _LETTERS for letter in rest):
            _einsum_error(f"{equation!r}: subscripts are letters and at most one ... per operand")
    return terms, output if arrow else None


def _einsum_sizes(terms, operands):
    """Each subscript's size; sizes of one subscript agree, or are 1 and broadcast."""
    sizes: dict[str, int] = {}
    for position, (term, t) in enumerate(zip(terms, operands)):
        own: dict[str, int] = {}
        for letter, size in zip(term, t.shape):
            if own.setdefault(letter, size) != size:
                _einsum_error(
                    f"subscript {letter} is repeated in operand {position} (shape {t.shape}) "
                    f"with sizes {own[letter]} and {size}"
                )
            seen = sizes.setdefault(letter, size)
            if seen != size and 1 not in (seen, size):
                _einsum_error(
                    f"subscript {letter} has size {size} in operand {position} (shape "
                    f"{t.shape}) and {seen} before it"
                )
            sizes[letter] = max(seen, size)
    return sizes


def _einsum_error(message):
    raise ShapeError(f"{op_context('einsum')}: {message}")


# Products PyTorch offers by name, composed of matmul, einsum and elementwise ops: no rules.


def mv(matrix, vector):
    """Matrix times vector: a 2-D tensor and a 1-D one (PyTorch's mv)."""
    matrix, vector = as_tensor(matrix), as_tensor(vector)
    if matrix.ndim != 2 or vector.ndim != 1:
        raise ShapeError(
            f"{op_context('mv')}: expects a 2-D and a 1-D tensor, got {matrix.shape} and "
            f"{vector.shape}"
        )
    return matmul(matrix, vector)


def vdot(a, b):
    """Inner product of two 1-D tensors (real: as dot)."""
    return _matmul_of_rank("vdot", a, b, 1, "two 1-D tensors")


def inner(a, b):
    """Sum over the last dims of a and b (a number times a tensor where either is 0-d)."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return tensordot(a, b, ([-1], [-1]))


def tensordot(a, b, dims=2):
    """Sum of products over a's last `dims` dims and b's first (or the listed dims of each),
    as PyTorch's and NumPy's tensordot: one matmul between the two, reshaped."""
    a, b = as_tensor(a), as_tensor(b)
    if isinstance(dims, int):
        if dims < 0 or dims > min(a.ndim, b.ndim):
            raise ShapeError(
                f"{op_context('tensordot')}: cannot sum over {dims} dims of tensors of shapes "
                f"{a.shape} and {b.shape}"
            )
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
    dims_a = [d % a.ndim for d in dims_a] if a.ndim else []
    dims_b = [d % b.ndim for d in dims_b] if b.ndim else []
    if len(dims_a) != len(dims_b) or any(a.shape[i] != b.shape[j] for i, j in zip(dims_a, dims_b)):
        raise ShapeError(
            f"{op_context('tensordot')}: dims {dims_a} of {a.shape} and {dims_b} of {b.shape} "
            "do not pair up with equal sizes"
        )
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    summed = math.prod(a.shape[d] for d in dims_a)
    left = reshape(permute(a, *(free_a + dims_a)), -1, summed) if a.ndim else reshape(a, 1, 1)
    right = reshape(permute(b, *(dims_b + free_b)), summed, -1) if b.ndim else reshape(b, 1, 1)
    out_shape = tuple(a.shape[d] for d in free_a) + tuple(b.shape[d] for d in free_b)
    return reshape(matmul(left, right), out_shape)


def kron(a, b):
    """The Kronecker product: blocks a[i] * b, as PyTorch's and NumPy's kron."""
    a, b = as_tensor(a), as_tensor(b)
    ndim = max(a.ndim, b.ndim)
    a = reshape(a, (1,) * (ndim - a.ndim) + a.shape)
    b = reshape(b, (1,) * (ndim - b.ndim) + b.shape)
    # a's dims at even places, b's at odd: their product, read row-major, is the block layout
    spread_a = reshape(a, tuple(v for n in a.shape for v in (n, 1)))
    spread_b = reshape(b, tuple(v for n in b.shape for v in (1, n)))
    return reshape(spread_a * spread_b, tuple(m * n for m, n in zip(a.shape, b.shape)))


def cross(a, b, dim=None):
    """The cross product of 3-vectors along `dim` (by default the first dim of size 3, as
    torch.cross; torch.linalg.cross takes the last), broadcast."""
    a, b = as_tensor(a), as_tensor(b)
    shape = broadcast_shapes("cross", a.shape, b.shape)
    if dim is None:
        dim = next((d for d, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise ShapeError(f"{op_context('cross')}: no dim of size 3 in shape {shape}")
    axis = dim % len(shape) if shape else 0
    if not shape or shape[axis] != 3:
        raise ShapeError(
            f"{op_context('cross')}: dim {dim} must have size 3, got shapes {a.shape} and {b.shape}"
        )
    a, b = (expand(t, *shape) if t.shape != shape else t for t in (a, b))
    ahead, behind = [1, 2, 0], [2, 0, 1]  # component i of a x b is a[i+1] b[i+2] - a[i+2] b[i+1]
    return index_select(a, axis, ahead) * index_select(b, axis, behind) - index_select(
        a, axis, behind
    ) * index_select(b, axis, ahead)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2), input broadcast; beta = 0 ignores input (NaN too)."""
    return _scaled_sum(input, mm(mat1, mat2), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec)."""
    return _scaled_sum(input, mv(mat, vec), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """beta * input + alpha * outer(vec1, vec2)."""
    return _scaled_sum(input, outer(vec1, vec2), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * bmm(batch1, batch2)."""
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * the sum over the batch of bmm(batch1, batch2)."""
    products = bmm(batch1, batch2)
    return _scaled_sum(input, products.sum(0), beta, alpha)


def _scaled_sum(input, product, beta, alpha):
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        # PyTorch: input is ignored, so NaN or inf in it does not propagate; only its shape counts
        shape = broadcast_shapes("add", as_tensor(input).shape, product.shape)
        return expand(product, *shape) if product.shape != shape else product
    return (input if beta == 1 else input * beta) + product


def matrix_power(x, n):
    """x @ x @ ... (n times) for square matrices (batched), by repeated squaring; n >= 0."""
    x = as_tensor(x)
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ShapeError(f"{op_context('matrix_power')}: expects square matrices, got {x.shape}")
    if isinstance(n, np.integer):
        n = int(n)
    if not isinstance(n, int) or n < 0:
        raise ValueError(
            f"{op_context('matrix_power')}: n must be an integer >= 0 (negative powers need an "
            f"inverse, which pathgrad does not have yet), got {n!r}"
        )
    result = None
    square = x
    while n:
        if n & 1:
            result = square if result is None else matmul(result, square)
        n >>= 1
        if n:
            square = matmul(square, square)
    if result is None:  # x^0: identity, constant
        identity = np.broadcast_to(np.eye(x.shape[-1], dtype=x._data.dtype), x.shape)
        return as_tensor(np.array(identity))
    return result


def cdist(x1, x2, p=2.0):
    """Pairwise p-norm distances between the rows of x1 (..., m, d) and x2 (..., n, d): an
    (..., m, n) tensor, as PyTorch's cdist; composed (broadcast, subtract, norm)."""
    x1, x2 = as_tensor(x1), as_tensor(x2)
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise ShapeError(
            f"{op_context('cdist')}: expects (..., m, d) and (..., n, d), got {x1.shape} and "
            f"{x2.shape}"
        )
    differences = unsqueeze(x1, -2) - unsqueeze(x2, -3)
    return _pairwise_norm(differences, p)


def dist(x, y, p=2.0):
    """The p-norm of x - y (broadcast), as PyTorch's dist."""
    return _norm(as_tensor(x) - y, p, None)


def _pairwise_norm(t, p):
    """cdist's and pdist's norm over the last dim: at p = inf every tied largest |difference|
    gets the full gradient, as PyTorch's distance kernels (its norm and dist share it)."""
    if p != math.inf:
        return _norm(t, p, -1)
    magnitude = t.abs()
    largest = magnitude.detach().amax(-1, keepdim=True)
    tied = (magnitude.detach() == largest).to(t.dtype)
    # the value is the max; the gradient, sign(t) at each tie, rides on a term worth zero
    return largest.squeeze(-1) + ((magnitude - magnitude.detach()) * tied).sum(-1)


def _norm(t, p, dim):
    if p == 0:
        return (t != 0).sum(dim).to(t.dtype)  # how many differ: no gradient, as PyTorch
    return norm(t, p, dim)


def block_diag(*tensors):
    """The tensors (0-, 1- or 2-D) as blocks down the diagonal of one matrix of zeros."""
    blocks = []
    for t in tensors:
        t = as_tensor(t)
        if t.ndim > 2:
            raise ShapeError(
                f"{op_context('block_diag')}: blocks have at most 2 dims, got {t.shape}"
            )
        blocks.append(reshape(t, (1,) * (2 - t.ndim) + t.shape))
    if not blocks:
        return as_tensor(np.zeros((1, 0), np.float32))
    width = sum(b.shape[1] for b in blocks)
    dtype = np.result_type(*(b._data.dtype for b in blocks))
    rows, start = [], 0
    for b in blocks:
        before = as_tensor(np.zeros((b.shape[0], start), dtype))
        after = as_tensor(np.zeros((b.shape[0], width - start - b.shape[1]), dtype))
        rows.append(cat([before, b, after], 1))
        start += b.shape[1]
    return cat(rows, 0)


def cartesian_prod(*tensors):
    """Every combination of one element from each 1-D tensor, one per row (a 1-D tensor when
    given one), as PyTorch's cartesian_prod."""
    tensors = [as_tensor(t) for t in tensors]
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, -1) for g in grids], 1)


def vander(x, N=None, increasing=False):
    """Columns of powers of the 1-D x: x^(N-1) .. x^0 (increasing=True: x^0 .. x^(N-1))."""
    x = as_tensor(x)
    if x.ndim != 1:
        raise ShapeError(f"{op_context('vander')}: expects a 1-D tensor, got {x.shape}")
    count = x.shape[0] if N is None else N
    powers = range(count) if increasing else range(count - 1, -1, -1)
    return stack([x**k if k else x * 0 + 1 for k in powers], 1) if count else reshape(x, -1, 0)


def pdist(x, p=2.0):
    """The p-norm distances between the rows of the 2-D x, each pair once (row i before j),
    as PyTorch's pdist: cdist's upper triangle."""
    x = as_tensor(x)
    if x.ndim != 2:
        raise ShapeError(f"{op_context('pdist')}: expects a 2-D tensor, got {x.shape}")
    rows, columns = np.triu_indices(x.shape[0], 1)
    return _pairwise_norm(index_select(x, 0, rows) - index_select(x, 0, columns), p)

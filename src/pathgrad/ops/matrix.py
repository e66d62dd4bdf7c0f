"""Functions of square matrices (batched over leading dims): inverse, determinant, solve,
Cholesky and symmetric eigendecomposition. Each rule is the textbook matrix derivative, written
with matmul and these ops themselves, so it differentiates again (Hessians through inverses)."""

from __future__ import annotations

import builtins
from collections import namedtuple

import numpy as np

from pathgrad.errors import LinAlgError, ShapeError, op_context
from pathgrad.ops.broadcast import broadcast_shapes, expand_as_needed
from pathgrad.ops.elementwise import where
from pathgrad.ops.linalg import matmul
from pathgrad.ops.registry import as_tensor, op
from pathgrad.ops.shape import cat, narrow, squeeze, transpose, tril, triu, unsqueeze

slogdet_result = namedtuple("slogdet", ["sign", "logabsdet"])
eigh_result = namedtuple("eigh", ["eigenvalues", "eigenvectors"])
svd_result = namedtuple("svd", ["U", "S", "Vh"])
qr_result = namedtuple("qr", ["Q", "R"])
lstsq_result = namedtuple("lstsq", ["solution", "residuals", "rank", "singular_values"])


def _matrices(op_name, A, square=False):
    """A's data, checked to be matrices (batched; square ones where asked) of a floating dtype,
    as the matrix functions need."""
    data = A._data
    if data.ndim < 2 or (square and data.shape[-1] != data.shape[-2]):
        kind = "square matrices (..., n, n)" if square else "matrices (..., m, n)"
        raise ShapeError(f"{op_context(op_name)}: expects {kind}, got shape {data.shape}")
    if data.dtype.kind != "f":
        raise TypeError(
            f"{op_context(op_name)}: expects a floating tensor, got {data.dtype} (as PyTorch)"
        )
    return data


def _square(op_name, A):
    return _matrices(op_name, A, square=True)


def _numpy_linalg(op_name, compute, what):
    try:
        return compute()
    except np.linalg.LinAlgError as error:
        raise LinAlgError(f"{op_context(op_name)}: {what} ({error})") from None


def _mT(t):
    return transpose(t, -2, -1)


@op("inv", saves_out=True, rule="dL/dA = -out^T @ dL/dout @ out^T")
def inv(A):
    """A^-1: d(A^-1) = -A^-1 dA A^-1, so dL/dA = -A^-T G A^-T."""
    data = _square("inv", A)
    out = _numpy_linalg("inv", lambda: np.linalg.inv(data), "the matrix is singular")

    def vjp(grad, out):
        out_t = _mT(out)
        return -matmul(matmul(out_t, grad), out_t)

    return out, vjp


@op("det", saves_out=True, rule="dL/dA = dL/dout * out * inv(A)^T")
def det(A):
    """det A: d det = det(A) tr(A^-1 dA), so dL/dA = g det(A) A^-T = g adj(A)^T; where A is
    singular, adj(A) comes from the SVD, as PyTorch's gradient there (first order only)."""
    data = _square("det", A)

    def vjp(grad, out, A=A):
        scale = unsqueeze(unsqueeze(grad, -1), -1)
        if np.all(out._data != 0):
            return scale * unsqueeze(unsqueeze(out, -1), -1) * _mT(inv(A))
        return scale * as_tensor(_adjugate_transposed(A._data))

    return np.asarray(np.linalg.det(data)), vjp


def _adjugate_transposed(data):
    """adj(A)^T = det(U) det(V) U diag(prod of the other singular values) V^T, for A = U S V^T:
    defined for singular A, where det(A) A^-T is not."""
    u, s, vh = np.linalg.svd(data)
    n = s.shape[-1]
    others = np.prod(np.where(np.eye(n, dtype=bool), 1.0, s[..., None, :]), axis=-1)
    sign = np.linalg.det(u) * np.linalg.det(vh)
    return (sign[..., None, None] * (u * others[..., None, :])) @ vh


@op("logabsdet", rule="dL/dA = dL/dout * inv(A)^T")
def logabsdet(A):
    """log |det A|: dL/dA = g A^-T; where A is singular, adj(A)^T / 0, infinite, as PyTorch."""
    data = _square("slogdet", A)
    sign, out = np.linalg.slogdet(data)
    singular = bool(np.any(sign == 0))

    def vjp(grad, A=A):
        scale = unsqueeze(unsqueeze(grad, -1), -1)
        if not singular:
            return scale * _mT(inv(A))
        with np.errstate(divide="ignore", invalid="ignore"):
            inverse_t = _adjugate_transposed(data) / np.linalg.det(data)[..., None, None]
        return scale * as_tensor(inverse_t)

    return np.asarray(out), vjp


def slogdet(A):
    """(sign, log |det A|), as PyTorch's linalg.slogdet; the sign is a plain tensor."""
    A = as_tensor(A)
    sign = np.asarray(np.linalg.slogdet(_square("slogdet", A))[0])
    return slogdet_result(as_tensor(sign), logabsdet(A))


def logdet(A):
    """log det A: NaN where det A < 0, -inf where it is 0, as PyTorch's logdet."""
    sign, value = slogdet(A)
    return where(sign._data < 0, np.nan, value)  # a zero determinant's log |det| is -inf already


@op(
    "solve",
    inputs=2,
    saves_out=True,
    rule="dL/dA = -solve(A^T, dL/dout) @ out^T; dL/dB = solve(A^T, dL/dout)",
)
def solve_matrices(A, B):
    """X with A X = B, for A (..., n, n) and B (..., n, k) with one batch shape:
    dL/dB = A^-T G, dL/dA = -(A^-T G) X^T."""
    data = _square("solve", A)
    out = _numpy_linalg("solve", lambda: np.linalg.solve(data, B._data), "A is singular")

    def vjp(grad, out, A=A):
        # one rule for both: A's gradient is made from B's, so two formulas would solve twice
        grad_b = solve_matrices(_mT(A), grad)
        return -matmul(grad_b, _mT(out)), grad_b

    return out, vjp


def solve(A, B, *, left=True):
    """X with A X = B (X A = B with left=False), as PyTorch's linalg.solve: B is a batch of
    vectors where it is 1-D or has A's shape less its last dim, else of matrices; batch dims
    broadcast."""
    A, B = as_tensor(A), as_tensor(B)
    _square("solve", A)
    if not left:
        return _mT(solve(_mT(A), _mT(B)))
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])
    if vector:
        B = unsqueeze(B, -1)
    n = A.shape[-1]
    if B.ndim < 2 or B.shape[-2] != n:
        raise ShapeError(
            f"{op_context('solve')}: A of shape {A.shape} and B of shape "
            f"{B.shape[:-1] if vector else B.shape} do not fit: B needs {n} rows"
        )
    batch = broadcast_shapes("solve", A.shape[:-2], B.shape[:-2])
    dtype = np.result_type(A._data.dtype, B._data.dtype)
    A = expand_as_needed(A, batch + (n, n), dtype)
    B = expand_as_needed(B, batch + B.shape[-2:], dtype)
    out = solve_matrices(A, B)
    return squeeze(out, -1) if vector else out


@op(
    "cholesky",
    saves_out=True,
    rule=(
        "dL/dA = L^-T Phi(L^T @ dL/dout) L^-1, symmetrised (L = out, Phi: lower half, "
        "diagonal halved)"
    ),
)
def cholesky_lower(A):
    """L, lower triangular, with L L^T = A (A symmetric positive definite; its lower triangle is
    read). The rule is PyTorch's (Murray 2016): M = tril(L^T G) with its diagonal halved and
    mirrored, then dL/dA = L^-T M L^-1."""
    data = _square("cholesky", A)
    out = _numpy_linalg(
        "cholesky", lambda: np.linalg.cholesky(data), "the matrix is not positive definite"
    )

    def vjp(grad, out):
        middle = tril(matmul(_mT(out), grad))
        middle = (middle + _mT(tril(middle, -1))) * 0.5
        inverse = inv(out)
        return matmul(matmul(_mT(inverse), middle), inverse)

    return out, vjp


def cholesky(A, *, upper=False):
    """The Cholesky factor of symmetric positive definite A: lower L (L L^T = A), or upper
    U = L^T with upper=True."""
    lower = cholesky_lower(A)
    return _mT(lower) if upper else lower


def eigh(A, UPLO="L"):
    """(eigenvalues ascending, eigenvectors as columns) of symmetric A, from the triangle UPLO
    names, as PyTorch's linalg.eigh. Gradients are PyTorch's: they assume distinct eigenvalues
    (equal ones give infinite gradients to the eigenvectors) and a loss that does not depend on
    the eigenvectors' signs."""
    A = as_tensor(A)
    data = _square("eigh", A)
    if UPLO not in ("L", "U"):
        raise ValueError(f"{op_context('eigh')}: UPLO must be 'L' or 'U', not {UPLO!r}")
    values, vectors = _numpy_linalg(
        "eigh", lambda: np.linalg.eigh(data, UPLO), "the eigenvalues did not converge"
    )
    return eigh_result(eigenvalues(A, values, vectors), eigenvectors(A, values, vectors))


def eigvalsh(A, UPLO="L"):
    """The eigenvalues of symmetric A, ascending."""
    return eigh(A, UPLO).eigenvalues


@op("eigh_values", rule="dL/dA = V @ diag(dL/dout) @ V^T")
def eigenvalues(A, values, vectors):
    """eigh's eigenvalues (computed once by eigh): d lambda_i = v_i^T dA v_i, so
    dL/dA = V diag(g) V^T."""

    def vjp(grad, A=A):
        V = eigenvectors(A, values, vectors)
        return matmul(V * unsqueeze(grad, -2), _mT(V))

    return values.copy(), vjp


@op(
    "eigh_vectors",
    rule="dL/dA = V @ (F * (V^T @ dL/dout)) @ V^T, F_ij = 1 / (lambda_j - lambda_i)",
)
def eigenvectors(A, values, vectors):
    """eigh's eigenvectors: dL/dA = V (skew(V^T G) / E) V^T, E_ij = lambda_j - lambda_i, with
    skew(M) = (M - M^T) / 2 (PyTorch's rule for a symmetric A)."""

    def vjp(grad, A=A):
        V = eigenvectors(A, values, vectors)
        lam = eigenvalues(A, values, vectors)
        gaps = unsqueeze(lam, -2) - unsqueeze(lam, -1)
        same = np.eye(values.shape[-1], dtype=bool)
        projected = matmul(_mT(V), grad)
        skew = (projected - _mT(projected)) * 0.5
        inner = where(same, 0.0, skew / where(same, 1.0, gaps))
        return matmul(matmul(V, inner), _mT(V))

    return vectors.copy(), vjp


def svd(A, full_matrices=True):
    """(U, S, Vh) with A = U diag(S) Vh, singular values descending, as PyTorch's linalg.svd
    (full_matrices=True by default: U and Vh square; their extra columns and rows are some
    basis, and get no gradient, as in PyTorch). Gradients are PyTorch's (Townsend's formulas):
    they assume distinct nonzero singular values and a loss that does not depend on the signs
    of the singular vectors."""
    A = as_tensor(A)
    data = _matrices("svd", A)
    factors = _numpy_linalg(
        "svd", lambda: np.linalg.svd(data, full_matrices=full_matrices), "it did not converge"
    )
    return svd_result(
        singular_left(A, factors), singular_values(A, factors), singular_right(A, factors)
    )


def svdvals(A):
    """The singular values of A, descending."""
    A = as_tensor(A)
    return svd(A, full_matrices=False).S


def _reduced(A, factors):
    """The differentiable thin factors U (m, k), S (k), Vh (k, n), k = min(m, n)."""
    k = builtins.min(A._data.shape[-2:])
    U = singular_left(A, factors)
    Vh = singular_right(A, factors)
    if U._data.shape[-1] != k:
        U = narrow(U, -1, 0, k)
    if Vh._data.shape[-2] != k:
        Vh = narrow(Vh, -2, 0, k)
    return U, singular_values(A, factors), Vh


def _inverse_gaps(S):
    """1 / (s_j^2 - s_i^2) off the diagonal, 0 on it."""
    squares = S * S
    gaps = unsqueeze(squares, -2) - unsqueeze(squares, -1)
    same = np.eye(S._data.shape[-1], dtype=bool)
    return where(same, 0.0, 1.0 / where(same, 1.0, gaps))


@op("svd_values", rule="dL/dA = U @ diag(dL/dout) @ V^T")
def singular_values(A, factors):
    """svd's S: d s_i = u_i^T dA v_i, so dL/dA = U diag(g) Vh."""

    def vjp(grad, A=A):
        U, _, Vh = _reduced(A, factors)
        return matmul(U * unsqueeze(grad, -2), Vh)

    return factors[1].copy(), vjp


@op(
    "svd_left",
    rule="dL/dA = (U (F * (U^T dL/dout - dL/dout^T U)) S + (I - U U^T) dL/dout S^-1) V^T",
)
def singular_left(A, factors):
    """svd's U: dL/dA = U [(F o (U^T G - G^T U)) S] Vh + (I - U U^T) G S^-1 Vh, with
    F_ij = 1 / (s_j^2 - s_i^2) (the second term is zero for a square A)."""

    def vjp(grad, A=A):
        U, S, Vh = _reduced(A, factors)
        k = S._data.shape[-1]
        if grad._data.shape[-1] != k:
            grad = narrow(grad, -1, 0, k)  # the extra columns of a full U: no gradient
        projected = matmul(_mT(U), grad)
        inner = (projected - _mT(projected)) * _inverse_gaps(S) * unsqueeze(S, -2)
        out = matmul(matmul(U, inner), Vh)
        if A._data.shape[-2] > k:
            scaled = grad / unsqueeze(S, -2)
            out = out + matmul(scaled - matmul(U, matmul(_mT(U), scaled)), Vh)
        return out

    return factors[0].copy(), vjp


@op(
    "svd_right",
    rule="dL/dA = U (S (F * (V^T dL/dout - dL/dout^T V)) V^T + S^-1 dL/dout^T (I - V V^T))",
)
def singular_right(A, factors):
    """svd's Vh: dL/dA = U [S (F o (V^T Gv - Gv^T V))] Vh + U S^-1 Gv^T (I - V V^T), for
    Gv = G^T the gradient of V (the second term is zero for a square A)."""

    def vjp(grad, A=A):
        U, S, Vh = _reduced(A, factors)
        k = S._data.shape[-1]
        if grad._data.shape[-2] != k:
            grad = narrow(grad, -2, 0, k)  # the extra rows of a full Vh: no gradient
        projected = matmul(Vh, _mT(grad))  # V^T Gv
        inner = unsqueeze(S, -1) * ((projected - _mT(projected)) * _inverse_gaps(S))
        out = matmul(matmul(U, inner), Vh)
        if A._data.shape[-1] > k:
            scaled = grad / unsqueeze(S, -1)  # S^-1 Gv^T
            out = out + matmul(U, scaled - matmul(matmul(scaled, _mT(Vh)), Vh))
        return out

    return factors[2].copy(), vjp


def qr(A, mode="reduced"):
    """(Q, R) with A = Q R, Q with orthonormal columns and R upper triangular, as PyTorch's
    linalg.qr ("reduced": Q (m, k), R (k, n) for k = min(m, n); "complete": Q square). The
    gradient is Seeger et al.'s (as PyTorch's): through "complete" only where m <= n, where
    it is the reduced one."""
    A = as_tensor(A)
    data = _matrices("qr", A)
    if mode not in ("reduced", "complete"):
        raise ValueError(f"{op_context('qr')}: mode must be 'reduced' or 'complete', not {mode!r}")
    factors = tuple(np.linalg.qr(data, mode=mode))
    return qr_result(orthonormal_factor(A, factors), triangular_factor(A, factors))


def _qr_grad(A, factors, grad_q, grad_r):
    """dL/dA for A = Q R, m >= n (Seeger et al. 2017): (Gq + Q copyltu(M)) R^-T with
    M = R Gr^T - Gq^T Q and copyltu(M) M's lower triangle mirrored onto its upper. Where m < n,
    A = [X | Y] with X square: X's part by the same rule, Q's gradient taking Y R_Y^T along,
    and Y's gradient Q G_RY."""
    m, n = A._data.shape[-2:]
    Q, R = orthonormal_factor(A, factors), triangular_factor(A, factors)
    if m < n:
        square = narrow(R, -1, 0, m)
        grad_rest = None if grad_r is None else narrow(grad_r, -1, m, n - m)
        grad_square = None if grad_r is None else narrow(grad_r, -1, 0, m)
        if grad_rest is not None:
            extra = matmul(narrow(A, -1, m, n - m), _mT(grad_rest))  # Y Gry^T
            grad_q = extra if grad_q is None else grad_q + extra
        left = _qr_grad_square(Q, square, grad_q, grad_square)
        right = matmul(Q, grad_rest) if grad_rest is not None else _zeros_for_the_rest(A, m, n)
        return cat([left, right], -1)
    if Q._data.shape[-1] != n:
        raise NotImplementedError(
            f"{op_context('qr')}: no gradient through mode='complete' with more rows than "
            "columns (the extra columns of Q are any basis); use mode='reduced'"
        )
    return _qr_grad_square(Q, R, grad_q, grad_r)


def _qr_grad_square(Q, R, grad_q, grad_r):
    middle = None
    if grad_r is not None:
        middle = matmul(R, _mT(grad_r))
    if grad_q is not None:
        term = -matmul(_mT(grad_q), Q)
        middle = term if middle is None else middle + term
    mirrored = tril(middle) + _mT(tril(middle, -1))
    total = matmul(Q, mirrored)
    if grad_q is not None:
        total = total + grad_q
    return solve(_mT(R), total, left=False)  # (...) R^-T


def _zeros_for_the_rest(A, m, n):
    shape = A._data.shape[:-1] + (n - m,)
    return as_tensor(np.zeros(shape, A._data.dtype))


@op("qr_q", rule="dL/dA = (dL/dout + Q copyltu(M)) R^-T, M = R dL/dR^T - dL/dout^T Q")
def orthonormal_factor(A, factors):
    """qr's Q; its rule is _qr_grad's part for Q."""

    def vjp(grad, A=A):
        return _qr_grad(A, factors, grad, None)

    return factors[0].copy(), vjp


@op("qr_r", rule="dL/dA = Q (dL/dout + copyltu(M) R^-T), M = R dL/dout^T")
def triangular_factor(A, factors):
    """qr's R; its rule is _qr_grad's part for R."""

    def vjp(grad, A=A):
        return _qr_grad(A, factors, None, grad)

    return factors[1].copy(), vjp


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """The pseudo-inverse V diag(1/s) U^T, dropping singular values at or below
    max(atol, rtol * largest) (rtol's default: eps * max(m, n), as PyTorch)."""
    A = as_tensor(A)
    U, S, Vh = svd(A, full_matrices=False)
    largest = S._data.max(axis=-1, keepdims=True) if S._data.size else np.zeros(S._data.shape)
    if rtol is None:
        rtol = (
            0.0
            if atol is not None and atol > 0
            else np.finfo(A._data.dtype).eps * builtins.max(A._data.shape[-2:])
        )
    cutoff = np.maximum(0.0 if atol is None else atol, rtol * largest)
    kept = S._data > cutoff
    inverse = where(kept, 1.0 / where(kept, S, 1.0), 0.0)
    return matmul(_mT(Vh) * unsqueeze(inverse, -2), _mT(U))


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with T X = B (X T = B with left=False), T the upper or lower triangle of A (with ones
    on its diagonal where unitriangular), as PyTorch's linalg.solve_triangular: composed of
    the triangle and `solve`, so only that triangle gets a gradient. (NumPy has no triangular
    solver: this one costs LAPACK's general solve, n^3 rather than n^2.)"""
    A, B = as_tensor(A), as_tensor(B)
    _square("solve_triangular", A)
    if B.ndim < 2:
        raise ShapeError(
            f"{op_context('solve_triangular')}: B must be matrices (..., n, k), got {B.shape}"
        )
    triangle = triu(A) if upper else tril(A)
    if unitriangular:
        ones = np.eye(A.shape[-1], dtype=bool)
        triangle = where(ones, 1.0, triangle)
    return solve(triangle, B, left=left)


def cholesky_solve(B, L, upper=False):
    """X with A X = B for A = L L^T (or U^T U with upper=True), from the Cholesky factor, as
    PyTorch's cholesky_solve. Only L's triangle gets a gradient (PyTorch's rule also gives
    its other, unread triangle one)."""
    lower = _mT(as_tensor(L)) if upper else as_tensor(L)
    halfway = solve_triangular(lower, B, upper=False)
    return solve_triangular(_mT(lower), halfway, upper=True)


def cholesky_inverse(L, upper=False):
    """(L L^T)^-1 from the Cholesky factor L (or U^T U with upper=True)."""
    L = as_tensor(L)
    identity = np.broadcast_to(np.eye(L.shape[-1], dtype=L._data.dtype), L.shape)
    return cholesky_solve(as_tensor(np.array(identity)), L, upper)


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution of A X = B (the least-norm one where A is wide or
    rank-deficient), as PyTorch's linalg.lstsq with its CPU default driver: (solution, empty
    residuals, rank, empty singular values). The solution is pinv(A) B, so it differentiates."""
    A, B = as_tensor(A), as_tensor(B)
    _matrices("lstsq", A)
    vector = B.ndim == A.ndim - 1
    right = unsqueeze(B, -1) if vector else B
    if right.shape[-2] != A.shape[-2]:
        raise ShapeError(
            f"{op_context('lstsq')}: A of shape {A.shape} and B of shape {B.shape} need the "
            "same number of rows"
        )
    solution = matmul(pinv(A, rtol=rcond), right)
    empty = as_tensor(np.zeros((0,), A._data.dtype))
    return lstsq_result(squeeze(solution, -1) if vector else solution, empty, matrix_rank(A), empty)


# Higham's (2005) degree-13 Pade coefficients for exp, and the 1-norm up to which they are
# accurate to double precision; larger matrices are scaled down by 2^s first, then squared
PADE_13 = (
    64764752532480000.0,
    32382376266240000.0,
    7771770303897600.0,
    1187353796428800.0,
    129060195264000.0,
    10559470521600.0,
    670442572800.0,
    33522128640.0,
    1323241920.0,
    40840800.0,
    960960.0,
    16380.0,
    182.0,
    1.0,
)
THETA_13 = 5.371920351148152


@op(
    "matrix_exp",
    rule="dL/dA = upper right block of matrix_exp([[A^T, dL/dout], [0, A^T]])",
)
def matrix_exp(A):
    """e^A of square matrices (batched), by scaling and squaring with Higham's Pade(13). The
    rule is the Frechet derivative's adjoint: for G, the top-right block of
    exp([[A^T, G], [0, A^T]]), itself a matrix_exp, so it differentiates again."""
    data = _square("matrix_exp", A)

    def vjp(grad, A=A):
        n = data.shape[-1]
        at = _mT(A)
        zeros = as_tensor(np.zeros(data.shape, grad._data.dtype))
        block = cat([cat([at, grad], -1), cat([zeros, at], -1)], -2)
        return narrow(narrow(matrix_exp(block), -2, 0, n), -1, n, n)

    return _exp_pade(data), vjp


def _exp_pade(data):
    n = data.shape[-1]
    if n == 0:
        return data.copy()
    norm = np.abs(data).sum(axis=-2).max() if data.size else 0.0
    steps = max(0, int(np.ceil(np.log2(norm / THETA_13)))) if norm > THETA_13 else 0
    a = data / 2.0**steps
    b = PADE_13
    identity = np.eye(n, dtype=data.dtype)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (
        a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2)
        + b[7] * a6
        + b[5] * a4
        + b[3] * a2
        + b[1] * identity
    )
    v = (
        a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2)
        + b[6] * a6
        + b[4] * a4
        + b[2] * a2
        + b[0] * identity
    )
    out = np.linalg.solve(v - u, v + u)
    for _ in range(steps):
        out = out @ out
    return out


def matrix_rank(A, *, tol=None, hermitian=False):
    """How many singular values exceed the tolerance (NumPy's default): an int64 tensor, not
    differentiable."""
    A = as_tensor(A)
    rank = np.linalg.matrix_rank(A._data, tol=tol, hermitian=hermitian)
    return as_tensor(np.asarray(rank, dtype=np.int64))


__all__ = [
    "cholesky",
    "cholesky_inverse",
    "cholesky_solve",
    "det",
    "eigh",
    "eigvalsh",
    "inv",
    "logdet",
    "lstsq",
    "matrix_exp",
    "matrix_rank",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "solve_triangular",
    "svd",
    "svdvals",
]

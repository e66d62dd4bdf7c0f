"""Higher-order derivatives and function transforms (grad, vjp, jvp, jacobian, hessian, hvp)."""

import numpy as np
import pytest

import pathgrad as pg
from conftest import graph_op_names
from op_cases import ALL_CASES, CASES, inputs_for


def test_every_differentiable_op_has_a_second_order_case():
    registered = {name for name, d in pg.REGISTRY.items() if d.differentiable}
    assert registered <= {case.op for case in CASES}


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.id)
def test_second_order_gradcheck(case):
    inputs = [pg.tensor(a, dtype=pg.float64, requires_grad=True) for a in inputs_for(case)]
    assert pg.gradgradcheck(lambda *xs: case.fn(pg, *xs), inputs, eps=case.eps, atol=case.tolerance)


def test_quadratic_form_hessian_is_a_plus_a_transpose():
    A = np.random.default_rng(0).standard_normal((4, 4))
    H = pg.hessian(lambda x: x @ pg.tensor(A) @ x)(np.ones(4))
    np.testing.assert_allclose(H, A + A.T, rtol=1e-12, atol=1e-12)


def test_logsumexp_hessian_is_diag_p_minus_p_p_transpose():
    x = np.array([0.3, -1.2, 2.0, 0.5])
    p = np.exp(x - np.log(np.exp(x).sum()))
    H = pg.hessian(lambda x: x.logsumexp(0))(x)
    np.testing.assert_allclose(H, np.diag(p) - np.outer(p, p), rtol=1e-12, atol=1e-12)


def test_third_derivatives_of_tanh_and_sin():
    def third(f):
        # f is elementwise, so each grad of a sum is the next derivative elementwise
        first = pg.grad(lambda x: f(x).sum())
        second = pg.grad(lambda x: first(x).sum())
        return pg.grad(lambda x: second(x).sum())

    x = np.array([0.3, -0.8])
    t = np.tanh(x)
    np.testing.assert_allclose(third(pg.tanh)(x), -2 * (1 - t * t) * (1 - 3 * t * t), rtol=1e-12)
    np.testing.assert_allclose(third(pg.sin)(x), -np.cos(x), rtol=1e-12)
    scalar = pg.grad(pg.grad(pg.grad(lambda x: x.tanh())))
    np.testing.assert_allclose(scalar(np.array(0.3)), -2 * (1 - t[0] ** 2) * (1 - 3 * t[0] ** 2))


def test_create_graph_false_records_no_graph():
    x = pg.tensor([0.5, 1.5], requires_grad=True)
    (g,) = pg.autograd.grad((x.tanh() * x).sum(), x)
    assert g.grad_fn is None and not g.requires_grad
    (g2,) = pg.autograd.grad((x.tanh() * x).sum(), x, create_graph=True)
    assert g2.grad_fn is not None and "tanh" in graph_op_names(g2)


def test_backward_create_graph_then_differentiate_grad():
    x = pg.tensor([2.0], dtype=pg.float64, requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    (second,) = pg.autograd.grad(x.grad.sum(), x)
    assert second.item() == pytest.approx(12.0)


def test_grad_argnums_and_pytrees():
    def f(params, x):
        return ((params["w"] * x).sum() + params["b"][0] * 2).tanh()

    params = {"w": np.array([0.1, -0.2]), "b": [np.array(0.3)]}
    g = pg.grad(f)(params, np.array([1.0, 2.0]))
    assert set(g) == {"w", "b"} and isinstance(g["w"], np.ndarray)
    s = 1 - np.tanh(0.1 - 0.4 + 0.6) ** 2
    np.testing.assert_allclose(g["w"], s * np.array([1.0, 2.0]))
    np.testing.assert_allclose(g["b"][0], 2 * s)
    gw, gx = pg.grad(f, argnums=(0, 1))(params, np.array([1.0, 2.0]))
    np.testing.assert_allclose(gx, s * np.array([0.1, -0.2]))


def test_tensors_in_give_tensors_out():
    g = pg.grad(lambda x: (x * x).sum())(pg.tensor([1.0, 2.0]))
    assert isinstance(g, pg.Tensor) and g.tolist() == [2.0, 4.0]


def test_value_and_grad_with_aux():
    (value, aux), g = pg.value_and_grad(lambda x: ((x * x).sum(), "aux"), has_aux=True)(
        np.array([3.0])
    )
    assert value == 9.0 and aux == "aux" and g.tolist() == [6.0]


def test_vjp_and_jvp_agree_with_the_jacobian():
    def f(x):
        return pg.stack([x.sin().sum(), (x * x).prod(), x[0] / x[1]])

    x = np.array([0.7, 1.3])
    J = pg.jacrev(f)(x)
    np.testing.assert_allclose(pg.jacfwd(f)(x), J, rtol=1e-12)
    out, vjp_fn = pg.vjp(f, x)
    v = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(vjp_fn(v)[0], v @ J, rtol=1e-12)
    t = np.array([0.3, -0.4])
    value, tangent = pg.jvp(f, (x,), (t,))
    np.testing.assert_allclose(tangent, J @ t, rtol=1e-12)
    np.testing.assert_allclose(value, out)


def test_hvp_matches_the_hessian():
    def f(x):
        return (x.tanh() * x.exp()).sum() + (x[0] * x[1]) ** 2

    x, v = np.array([0.2, -0.5, 0.9]), np.array([1.0, 2.0, -1.0])
    H = pg.hessian(f)(x)
    value, (product,) = pg.hvp(f, (x,), (v,))
    np.testing.assert_allclose(product, H @ v, rtol=1e-12)
    np.testing.assert_allclose(H, H.T, rtol=1e-12)


def test_grad_of_a_non_scalar_function_is_a_clear_error():
    with pytest.raises(ValueError, match=r"must return a scalar, got shape \(3,\).*jacobian"):
        pg.grad(lambda x: x * 2)(np.ones(3))


def test_argnums_out_of_range():
    with pytest.raises(IndexError, match="argnums 2 is out of range.*2 positional"):
        pg.grad(lambda x, y: (x * y).sum(), argnums=2)(np.ones(2), np.ones(2))


def test_unused_input_errors_unless_allowed():
    x = pg.tensor([1.0], requires_grad=True)
    unused = pg.tensor([2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"input 1 \(shape \(1,\)\) was not used"):
        pg.autograd.grad((x * 2).sum(), [x, unused])
    gx, gu = pg.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gx.tolist() == [2.0] and gu is None


def test_register_hook_reads_and_replaces_gradients():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    handle = x.register_hook(lambda g: seen.append(g.tolist()))
    y = x * 3
    y.register_hook(lambda g: g * 10)
    y.sum().backward()
    assert seen == [[30.0, 30.0]] and x.grad.tolist() == [30.0, 30.0]
    handle.remove()
    x.grad = None
    (x * 1).sum().backward()
    assert seen == [[30.0, 30.0]]


def test_retain_grad_keeps_the_final_gradient_of_a_non_leaf():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: g * 10)  # runs first, as in PyTorch
    (y * y).sum().backward()
    assert y.grad.tolist() == [40.0, 80.0]
    assert x.grad.tolist() == [80.0, 160.0]


def test_scipy_trust_ncg_reaches_the_rosenbrock_minimum():
    pytest.importorskip("scipy")
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).parents[1] / "examples" / "rosenbrock_scipy.py"
    spec = importlib.util.spec_from_file_location("rosenbrock_scipy", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    result = example.minimise(np.array([-1.2, 1.0]))
    assert result.success
    np.testing.assert_allclose(result.x, [1.0, 1.0], atol=1e-5)


def test_prod_hessian_with_zeros_is_the_product_of_the_others():
    # d2/dxi dxj of x0 x1 x2 x3 is the product of the two other elements, zeros or not
    for values in ([0.0, 2.0, 0.0, 3.0], [0.0, 2.0, 5.0, 3.0], [0.0, 0.0, 0.0, 3.0]):
        x = np.array(values)
        expected = np.array(
            [[0.0 if i == j else np.prod(np.delete(x, [i, j])) for j in range(4)] for i in range(4)]
        )
        np.testing.assert_allclose(pg.hessian(lambda t: t.prod())(x), expected, atol=1e-15)

"""pg.autograd.Function: user-written ops with their own backward, as PyTorch's."""

import numpy as np
import pytest

import pathgrad as pg


def functions(L):
    class Exp(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            out = x.exp()
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, grad):
            (out,) = ctx.saved_tensors
            return grad * out

    class MulAdd(L.autograd.Function):
        """Two outputs, a number argument, saved inputs and an attribute on ctx."""

        @staticmethod
        def forward(ctx, x, y, scale):
            ctx.save_for_backward(x, y)
            ctx.scale = scale
            return x * y * scale, x + y

        @staticmethod
        def backward(ctx, grad_product, grad_sum):
            x, y = ctx.saved_tensors
            return (
                grad_product * y * ctx.scale + grad_sum,
                grad_product * x * ctx.scale + grad_sum,
                None,
            )

    class Cube(L.autograd.Function):
        """PyTorch 2's form: forward without ctx, setup_context after it."""

        @staticmethod
        def forward(x):
            return x**3

        @staticmethod
        def setup_context(ctx, inputs, output):
            (x,) = inputs
            ctx.save_for_backward(x)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x

    return Exp, MulAdd, Cube


def first_and_second_derivatives(L):
    Exp, MulAdd, Cube = functions(L)
    x = L.tensor([0.5, -1.0, 2.0], dtype=L.float64, requires_grad=True)
    y = L.tensor([1.5, 2.0, -0.5], dtype=L.float64, requires_grad=True)
    product, total = MulAdd.apply(x, y, 3.0)
    loss = (Exp.apply(x) ** 2).sum() + (product * total).sum() + Cube.apply(y).sum()
    grads = L.autograd.grad(loss, (x, y), create_graph=True)
    second = L.autograd.grad(grads[0].sum() + (grads[1] * x).sum(), (x, y))
    return [np.round(t.detach().numpy(), 10).tolist() for t in grads + second]


def test_values_and_derivatives_to_second_order_match_pytorch():
    torch = pytest.importorskip("torch")
    assert first_and_second_derivatives(pg) == first_and_second_derivatives(torch)


def test_functions_pass_gradcheck_and_gradgradcheck():
    Exp, MulAdd, Cube = functions(pg)
    x = pg.tensor([0.5, -1.0, 2.0], dtype=pg.float64, requires_grad=True)
    y = pg.tensor([1.5, 2.0, -0.5], dtype=pg.float64, requires_grad=True)

    def f(a, b):
        product, total = MulAdd.apply(a, b, 0.5)
        return Exp.apply(product) * total + Cube.apply(b)

    assert pg.gradcheck(f, (x, y))
    assert pg.gradgradcheck(f, (x, y))


def test_an_output_left_unused_gets_zeros_or_none_as_asked():
    seen = []

    class Pair(pg.autograd.Function):
        @staticmethod
        def forward(ctx, x, materialize):
            ctx.set_materialize_grads(materialize)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, first, second):
            seen.append(second)
            return first * 2, None

    for materialize in (True, False):
        x = pg.ones(2, requires_grad=True)
        Pair.apply(x, materialize)[0].sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    assert seen[0].tolist() == [0.0, 0.0] and seen[1] is None


def test_non_differentiable_outputs_and_recording_off():
    class Split(pg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            positions = x.argmax().float()
            ctx.mark_non_differentiable(positions)
            return x * 1.0, positions

        @staticmethod
        def backward(ctx, grad, _):
            return grad

    x = pg.tensor([1.0, 3.0], requires_grad=True)
    values, positions = Split.apply(x)
    assert values.requires_grad and not positions.requires_grad
    with pg.no_grad():
        assert Split.apply(x)[0].grad_fn is None


def test_an_input_handed_back_is_a_new_tensor():
    class Same(pg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 5

    x = pg.ones(2, requires_grad=True)
    out = Same.apply(x)
    assert out is not x and x.grad_fn is None and x.is_leaf
    out.sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]


def test_in_place_changes_of_saved_tensors_are_caught():
    Exp, MulAdd, _ = functions(pg)
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    a = x * 1
    product, _ = MulAdd.apply(a, x, 1.0)
    a.add_(1.0)  # saved by MulAdd
    with pytest.raises(RuntimeError, match="backward through MulAdd .*changed in place by add_"):
        product.sum().backward()
    out = Exp.apply(x * 1)
    out.mul_(2.0)  # Exp saved its output
    with pytest.raises(RuntimeError, match="backward through Exp"):
        out.sum().backward()


def test_a_second_backward_through_a_freed_function_says_so():
    Exp, _, _ = functions(pg)
    x = pg.ones(2, requires_grad=True)
    out = Exp.apply(x).sum()
    out.backward()
    with pytest.raises(RuntimeError, match="saved values were freed"):
        out.backward()


class Wrong(pg.autograd.Function):
    @staticmethod
    def forward(ctx, x, n):
        ctx.mode = n
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        if ctx.mode == 0:
            return grad  # one gradient for two arguments
        if ctx.mode == 1:
            return grad.sum(), None  # the wrong shape
        return grad, grad  # a gradient for the number


@pytest.mark.parametrize(
    ("mode", "error", "message"),
    [
        (0, RuntimeError, r"Wrong.backward returned 1 gradients for 2 forward arguments"),
        (
            1,
            pg.GradientShapeError,
            r"the rule of Wrong \(made at .*\) returned a gradient of shape \(\)",
        ),
        (2, RuntimeError, r"gradient for argument 1, which is a int"),
    ],
)
def test_a_wrong_backward_is_named(mode, error, message):
    x = pg.ones(3, requires_grad=True)
    with pytest.raises(error, match=message):
        Wrong.apply(x, mode).sum().backward()


def test_apply_binds_keywords_to_forward_as_pytorch():
    class Scale(pg.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale=2.0, shift=0.0):
            ctx.scale = scale
            return x * scale + shift

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.scale, None, None

    x = pg.ones(2, requires_grad=True)
    Scale.apply(x, shift=1.0, scale=3.0).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    assert Scale.apply(x, shift=1.0).tolist() == [3.0, 3.0]
    with pytest.raises(TypeError, match=r"Scale.apply: .*unexpected keyword argument 'bias'"):
        Scale.apply(x, bias=1.0)


def test_once_differentiable_refuses_a_second_derivative():
    class NumpyExp(pg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return pg.tensor(np.exp(x.numpy()))

        @staticmethod
        @pg.autograd.once_differentiable
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return pg.tensor(grad.numpy() * np.exp(x.numpy()))

    x = pg.tensor([0.0, 1.0], dtype=pg.float64, requires_grad=True)
    (first,) = pg.autograd.grad(NumpyExp.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(first.numpy(), np.exp([0.0, 1.0]))
    with pytest.raises(RuntimeError, match="NumpyExp: its backward is once_differentiable"):
        first.sum().backward()


def test_a_function_graph_holds_no_reference_cycle():
    # the Node's promise: memory returns when the last tensor goes, without the collector
    import gc
    import weakref

    Exp, MulAdd, _ = functions(pg)
    x = pg.ones(3, requires_grad=True)
    enabled = gc.isenabled()
    gc.disable()
    try:
        product, total = MulAdd.apply(Exp.apply(x), x, 2.0)
        nodes = [weakref.ref(product.grad_fn), weakref.ref(total.grad_fn)]
        del product, total
        assert all(node() is None for node in nodes)
    finally:
        if enabled:
            gc.enable()

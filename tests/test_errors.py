"""Bad input gets a clear error that names the op, the shapes and the user's line."""

import re
import sys

import numpy as np
import pytest

import pathgrad as pg


def test_matmul_inner_dimensions_name_shapes_and_line():
    a, b = pg.ones(2, 3), pg.ones(4, 5)
    with pytest.raises(pg.ShapeError) as error:
        a @ b  # the line the message must name
    message = str(error.value)
    assert re.search(
        r"matmul at test_errors\.py:\d+: \(2, 3\) @ \(4, 5\): inner dimensions 3 and 4 differ",
        message,
    )
    line = int(re.search(r"test_errors\.py:(\d+)", message).group(1))
    assert "a @ b" in open(__file__).read().splitlines()[line - 1]


def test_batched_matmul_mismatch_names_both_shapes():
    with pytest.raises(pg.ShapeError, match=r"\(2, 3, 4\) @ \(5, 2\): inner dimensions 4 and 5"):
        pg.ones(2, 3, 4) @ pg.ones(5, 2)


def test_failed_broadcast_names_op_shapes_and_dim():
    x = pg.ones(3, 4, requires_grad=True)
    with pytest.raises(
        pg.ShapeError,
        match=r"add at test_errors\.py:\d+: shapes \(3, 4\) and \(5,\) cannot be broadcast.*dim -1",
    ):
        x + pg.ones(5)
    with pytest.raises(
        pg.ShapeError, match=r"mul at test_errors\.py:\d+: shapes \(3, 4\) and \(2, 4\)"
    ):
        pg.ones(3, 4) * pg.ones(2, 4)  # not recording: the same message
    with pytest.raises(
        pg.ShapeError, match=r"^clamp at test_errors\.py:\d+: shapes \(3, 4\) and \(5,\) cannot"
    ):
        x.clamp(max=pg.ones(5))  # the public name and the bounds given, not the primitive's


def test_backward_on_non_scalar_names_the_shape():
    y = pg.ones(2, 3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"scalar output.*shape \(2, 3\)"):
        y.backward()


def test_backward_gradient_of_wrong_shape():
    y = pg.ones(2, 3, requires_grad=True) * 2
    with pytest.raises(
        RuntimeError, match=r"gradient has shape \(3,\) but the output has shape \(2, 3\)"
    ):
        y.backward(pg.ones(3))


def test_requires_grad_on_integer_data_is_a_runtime_error_as_pytorchs():
    with pytest.raises(RuntimeError, match="floating"):
        pg.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="requires_grad_: only floating"):
        pg.arange(3).requires_grad_()
    with pytest.raises(RuntimeError, match="floating"):
        pg.zeros(2, dtype=pg.int64, requires_grad=True)


def test_out_of_range_index_is_an_index_error():
    x = pg.ones(3, 2, requires_grad=True)
    with pytest.raises(
        IndexError,
        match=r"getitem at test_errors\.py:\d+: index \[5, \.\.\.\] does not fit a tensor "
        r"of shape \(3, 2\)",
    ):
        x[5]
    with pytest.raises(IndexError, match="shape"):
        x[pg.tensor([0, 3])]
    with pytest.raises(RuntimeError, match="out of range"):  # gather's: RuntimeError in PyTorch
        x.gather(0, pg.tensor([[0, 7]]))
    with pytest.raises(IndexError, match="dim 2 is out of range"):
        x.sum(2)


def test_view_that_would_copy_is_refused_as_in_pytorch():
    x = pg.arange(12.0).reshape(3, 4)
    with pytest.raises(
        pg.ShapeError,
        match=r"view at test_errors\.py:\d+: a tensor of shape \(4, 3\) with strides \(1, 4\) .* "
        r"cannot be viewed as \(12,\) without copying; use \.reshape\(\)",
    ):
        x.T.view(-1)


def test_reshape_names_both_shapes_and_counts():
    with pytest.raises(
        pg.ShapeError,
        match=r"reshape at test_errors\.py:\d+: cannot reshape a tensor of shape \(2, 3\) "
        r"\(6 elements\) to \(4, 2\)",
    ):
        pg.ones(2, 3).reshape(4, 2)


def test_backward_without_graph_explains():
    with pytest.raises(RuntimeError, match="does not require grad"):
        pg.ones(2).sum().backward()


def test_cat_mismatch_names_tensor_and_shapes():
    with pytest.raises(pg.ShapeError, match=r"tensor 1 has shape \(2, 4\), tensor 0 has \(3, 4\)"):
        pg.cat([pg.ones(3, 4), pg.ones(2, 4)], dim=1)


def test_engine_names_a_rule_that_returns_a_wrong_shape(monkeypatch):
    from pathgrad.ops import elementwise

    definition = elementwise.exp.definition
    forward = definition.forward

    def broken(x):
        out, vjp = forward(x)
        return out, lambda grad, out_: (grad * out_).sum()  # forgot to keep the shape

    monkeypatch.setattr(definition, "forward", broken)
    x = pg.ones(3, requires_grad=True)
    with pytest.raises(
        pg.GradientShapeError,
        match=r"rule of exp \(made at test_errors\.py:\d+\) returned a gradient of shape \(\) "
        r".* shape \(3,\)",
    ):
        x.exp().sum().backward()


@pytest.mark.parametrize("anomaly", [False, True])
@pytest.mark.parametrize("op", ["add", "mul"])  # a rule of one function, one of formulas
def test_engine_names_a_rule_that_returns_too_few_gradients(monkeypatch, anomaly, op):
    from pathgrad.ops import elementwise

    definition = getattr(elementwise, op).definition
    forward = definition.forward

    def broken(x, y):
        out, vjp = forward(x, y)
        if isinstance(vjp, tuple):
            return out, vjp[:1]  # a formula for the first input only
        return out, lambda grad: (vjp(grad)[0],)  # dropped the second input's gradient

    monkeypatch.setattr(definition, "forward", broken)
    x, y = pg.ones(3, requires_grad=True), pg.ones(3, requires_grad=True)
    pg.autograd.set_detect_anomaly(anomaly)  # anomaly mode runs the rule under its own watch
    try:
        with pytest.raises(
            pg.GradientShapeError, match=rf"rule of {op} returned 1 gradients for 2"
        ):
            getattr(pg, op)(x, y).sum().backward()
    finally:
        pg.autograd.set_detect_anomaly(False)


def test_a_device_other_than_the_cpu_is_refused_by_name():
    with pytest.raises(RuntimeError, match=r"zeros: device 'cuda': .* CPU only"):
        pg.zeros(2, device="cuda")
    with pytest.raises(RuntimeError, match=r"to: device 'cuda:1'"):
        pg.ones(2).to("cuda:1")


def test_assignment_out_of_range_names_the_index_and_shape():
    x = pg.zeros(2, 3)
    with pytest.raises(
        IndexError,
        match=r"setitem at test_errors\.py:\d+: index \[5, \.\.\.\] does not fit a tensor of "
        r"shape \(2, 3\)",
    ):
        x[5] = 1.0


def test_a_dim_out_of_range_names_the_op_and_line():
    x = pg.ones(2, 3)
    line = sys._getframe().f_lineno + 2
    with pytest.raises(IndexError, match=rf"sum at test_errors\.py:{line}: dim 5 is out of range"):
        x.sum(5)
    with pytest.raises(IndexError, match=r"^max at test_errors\.py:\d+: dim 3"):
        x.max(3)
    with pytest.raises(TypeError, match=r"mean at test_errors\.py:\d+: dim must be an int"):
        x.mean("a")
    assert x.sum(np.int64(1)).shape == (2,)  # any integer names a dim


def test_where_needs_a_boolean_condition():
    x = pg.ones(2, 3, requires_grad=True)
    with pytest.raises(TypeError, match=r"where at test_errors\.py:\d+: .* boolean .* float32"):
        pg.where(pg.randn(2, 3), x, 0.0)


def test_factories_refuse_negative_sizes_by_name():
    with pytest.raises(ValueError, match=r"zeros: sizes must be non-negative, got -1"):
        pg.zeros(2, -1)
    with pytest.raises(TypeError, match=r"randn: sizes must be integers, got 2.5"):
        pg.randn(2.5)
    assert pg.zeros(np.int64(2), 0).shape == (2, 0)


def test_a_grad_of_another_shape_or_dtype_is_refused_when_assigned():
    w = pg.zeros(4, 2, dtype=pg.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"shape \(2,\) and dtype float64 .* shape \(4, 2\)"):
        w.grad = pg.ones(2, dtype=pg.float64)
    with pytest.raises(RuntimeError, match=r"dtype float32 .* dtype float64; they must match"):
        w.grad = pg.ones(4, 2)
    with pytest.raises(TypeError, match=r"\.grad: expected a tensor or None, got ndarray"):
        w.grad = np.ones((4, 2))
    assert w.grad is None  # nothing refused was stored
    w.grad = pg.ones(4, 2, dtype=pg.float64)
    del w.grad
    assert w.grad is None


def test_a_hook_that_changes_the_shape_is_named():
    def widen(grad):
        return pg.ones(2)

    x = pg.zeros(3, requires_grad=True)
    y = x * 2
    y.register_hook(widen)
    with pytest.raises(
        RuntimeError,
        match=r"hook .*widen on the output of mul \(made at test_errors\.py:\d+\) returned a "
        r"gradient of shape \(2,\)",
    ):
        (y * 3).sum().backward()


def test_requires_grad_assignments_are_checked_as_requires_grad_():
    with pytest.raises(RuntimeError, match=r"only floating-point tensors .* got dtype int64"):
        pg.tensor([1, 2]).requires_grad = True
    with pytest.raises(RuntimeError, match=r"requires_grad: only leaf tensors can change"):
        (pg.ones(2, requires_grad=True) * 2).requires_grad = False
    with pytest.raises(TypeError, match=r"requires_grad: expects True or False, got 1"):
        pg.ones(2).requires_grad = 1
    t = pg.ones(2)
    t.requires_grad = True
    assert t.requires_grad is True and t.is_leaf


def test_factories_name_what_describes_no_tensor():
    with pytest.raises(ValueError, match=r"arange: step must be nonzero"):
        pg.arange(0, 3, 0)
    with pytest.raises(ValueError, match=r"arange: end 0 cannot be reached from start 3 by step 1"):
        pg.arange(3, 0)
    with pytest.raises(ValueError, match=r"linspace: steps must be a non-negative integer, got -1"):
        pg.linspace(0, 1, -1)
    with pytest.raises(ValueError, match=r"eye: sizes must be non-negative, got -1"):
        pg.eye(-1)
    with pytest.raises(ValueError, match=r"randint: high \(3\) must be greater than low \(3\)"):
        pg.randint(3, 3, (2,))


# an op's refusal of an argument names the op and the user's line, as its shape errors do
ARGUMENT_ERRORS = {
    "unsqueeze": lambda x: x.unsqueeze(5),
    "flatten": lambda x: x.flatten(1, 0),
    "split": lambda x: x.split(0),
    "chunk": lambda x: x.chunk(0),
    "getitem": lambda x: x[pg.tensor([0.0])],
    "gather": lambda x: x.gather(1, pg.tensor([[0.0]])),
    "index_select": lambda x: x.index_select(1, pg.tensor([-1])),
    "one_hot": lambda x: pg.one_hot(x, 3),
    "norm": lambda x: x.norm(p=-1),
    "gelu": lambda x: pg.gelu(x, approximate="fast"),
    "select": lambda x: x.select(0, 5),
    "movedim": lambda x: x.movedim((0, 1), 0),
    "all": lambda x: x.all(dim=4),
    "scatter_add": lambda x: x.scatter_add(0, pg.tensor([[0.0]]), x),
    "scatter": lambda x: x.scatter(0, pg.tensor([[2]]), x),
    "index_add": lambda x: x.index_add(0, pg.tensor([0]), pg.ones(2, 3)),
    "diagonal": lambda x: x.diagonal(0, 1, -1),
    "unfold": lambda x: x.unfold(1, 4, 1),
}


@pytest.mark.parametrize("name", ARGUMENT_ERRORS)
def test_an_argument_error_names_the_op_and_the_line(name):
    with pytest.raises(
        (ValueError, IndexError, TypeError, RuntimeError), match=rf"^{name} at test_errors\.py:\d+"
    ):
        ARGUMENT_ERRORS[name](pg.ones(2, 3))


def test_data_that_no_tensor_holds_is_refused_not_wrapped():
    with pytest.raises(OverflowError, match=r"tensor: 9223372036854775808 does not fit int64"):
        pg.tensor([2**63])
    with pytest.raises(ValueError, match=r"NaN or an infinity cannot be converted to int64"):
        pg.tensor([float("nan"), 1.0], dtype=pg.int64)
    with pytest.raises(OverflowError, match=r"does not fit int32"):
        pg.tensor(np.array([1e30]), dtype=pg.int32)
    with pytest.raises(RuntimeError, match=r"cannot make a tensor from ndarray data \(object\)"):
        pg.tensor(np.array([1, "a"], dtype=object))
    with pytest.raises(TypeError, match=r"from_numpy: expected an ndarray, got list"):
        pg.from_numpy([1.0])
    assert pg.tensor([1.7, -2.7], dtype=pg.int64).tolist() == [1, -2]  # truncated, as PyTorch


def test_var_takes_unbiased_or_correction_not_both():
    with pytest.raises(
        ValueError, match=r"^var at test_errors\.py:\d+: give unbiased or correction"
    ):
        pg.ones(3).var(unbiased=True, correction=0)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: pg.ones(2) & pg.ones(2), "bitwise_and"),
        (lambda: pg.ones(2) << 1, "bitwise_left_shift"),
        (lambda: ~pg.ones(2), "bitwise_not"),
    ],
)
def test_bitwise_ops_on_floats_name_the_op_and_the_dtypes(call, name):
    with pytest.raises(TypeError, match=rf"^{name} at test_errors\.py:\d+: .* not float32"):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: pg.linalg.inv(pg.ones(2, 3)),
        lambda: pg.linalg.det(pg.ones(3)),
        lambda: pg.linalg.solve(pg.eye(2), pg.ones(3)),
        lambda: pg.linalg.eigh(pg.ones(2, 3)),
    ],
)
def test_matrix_functions_name_the_op_the_line_and_the_shape(call):
    with pytest.raises(pg.ShapeError, match=r"^\w+ at test_errors\.py:\d+: .*\(.*\)"):
        call()


def test_a_singular_matrix_is_named_with_the_line():
    with pytest.raises(pg.linalg.LinAlgError, match=r"^inv at test_errors\.py:\d+: .*singular"):
        pg.linalg.inv(pg.zeros(2, 2))


def test_no_gradient_through_the_arbitrary_columns_of_a_complete_q():
    a = pg.randn(4, 2, dtype=pg.float64, requires_grad=True)
    q, _ = pg.linalg.qr(a, mode="complete")
    with pytest.raises(NotImplementedError, match=r"^qr at test_errors\.py:\d+: .*mode='reduced'"):
        q.sum().backward()

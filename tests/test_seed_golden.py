"""The seed derivation's 2x2 example, element by element: d = a @ b + c, c broadcast over rows."""

import numpy as np

import pathgrad as pg


def test_seed_example_element_by_element():
    A = np.array([[1.0, 2.0], [3.0, 4.0]])
    B = np.array([[5.0, 6.0], [7.0, 8.0]])
    C = np.array([0.5, -1.5])
    G = np.array([[0.1, -0.2], [0.3, 0.7]])  # dL/dd, the upstream gradient
    a = pg.tensor(A, requires_grad=True)
    b = pg.tensor(B, requires_grad=True)
    c = pg.tensor(C, requires_grad=True)
    d = a @ b + c
    (d * pg.tensor(G)).sum().backward()

    (a11, a12), (a21, a22) = A
    (b11, b12), (b21, b22) = B
    c1, c2 = C
    (g11, g12), (g21, g22) = G
    # d_ij, written out as in the derivation
    assert np.allclose(
        d.numpy(),
        [
            [a11 * b11 + a12 * b21 + c1, a11 * b12 + a12 * b22 + c2],
            [a21 * b11 + a22 * b21 + c1, a21 * b12 + a22 * b22 + c2],
        ],
    )
    # only row 1 of d depends on a11: dL/da11 = dL/dd11 b11 + dL/dd12 b12, and so on
    expected_a = [
        [g11 * b11 + g12 * b12, g11 * b21 + g12 * b22],
        [g21 * b11 + g22 * b12, g21 * b21 + g22 * b22],
    ]
    expected_b = [
        [a11 * g11 + a21 * g21, a11 * g12 + a21 * g22],
        [a12 * g11 + a22 * g21, a12 * g12 + a22 * g22],
    ]
    # c1 feeds d11 and d21 with weight 1: dL/dc1 = dL/dd11 + dL/dd21
    expected_c = [g11 + g21, g12 + g22]
    np.testing.assert_allclose(a.grad.numpy(), expected_a, rtol=1e-15)
    np.testing.assert_allclose(b.grad.numpy(), expected_b, rtol=1e-15)
    np.testing.assert_allclose(c.grad.numpy(), expected_c, rtol=1e-15)
    # and the matrix forms the derivation arrives at
    np.testing.assert_allclose(a.grad.numpy(), G @ B.T)
    np.testing.assert_allclose(b.grad.numpy(), A.T @ G)
    np.testing.assert_allclose(c.grad.numpy(), G.sum(axis=0))


def test_the_broadcast_of_c_is_an_op_in_the_graph():
    a = pg.randn(2, 2, requires_grad=True)
    b = pg.randn(2, 2, requires_grad=True)
    c = pg.randn(2, requires_grad=True)
    d = a @ b + c
    add = d.grad_fn
    assert add.name == "add"
    broadcast = add.parents[1]
    assert broadcast.name == "broadcast_to" and broadcast.parents == (c,)

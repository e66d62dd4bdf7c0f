"""Minimise the Rosenbrock function with SciPy's trust-region Newton-CG, taking the gradient
and Hessian-vector products from pathgrad.

    pip install scipy && python examples/rosenbrock_scipy.py
"""

import numpy as np

import pathgrad as pg


def rosenbrock(x):
    return ((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2).sum()


def minimise(start):
    try:
        from scipy.optimize import minimize
    except ImportError as error:
        raise SystemExit("this example needs SciPy: pip install scipy") from error
    value_and_gradient = pg.value_and_grad(rosenbrock)

    def fun(x):
        value, gradient = value_and_gradient(x)
        return float(value), gradient

    def hessp(x, p):
        return pg.hvp(rosenbrock, (x,), (p,))[1][0]

    return minimize(fun, start, jac=True, hessp=hessp, method="trust-ncg")


if __name__ == "__main__":
    result = minimise(np.array([-1.2, 1.0]))
    print(f"minimum at {result.x} after {result.nit} iterations: f = {result.fun:.3e}")

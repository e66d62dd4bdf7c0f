"""SGD, Adam, AdamW, RMSprop and Adagrad: PyTorch's single-tensor update rules, line for line,
in NumPy on each parameter's memory."""

from __future__ import annotations

import math

import numpy as np

from pathgrad.ops.registry import as_weak
from pathgrad.optim.optimizer import Optimizer, changed, grad_of, required, step_tensor
from pathgrad.tensor import Tensor, from_array


def _check(name: str, value: float, what: str, low: float = 0.0) -> None:
    if not value >= low:
        raise ValueError(f"Invalid {what}: {value}")


def _zeros(p: Tensor) -> Tensor:
    return from_array(np.zeros_like(p._data))


def _new_step() -> Tensor:
    return from_array(np.array(0.0, dtype=np.float32))


class SGD(Optimizer):
    """p -= lr * d, with d the gradient plus weight decay, through momentum (dampening,
    Nesterov) where asked, as torch.optim.SGD."""

    def __init__(
        self,
        params,
        lr=1e-3,
        momentum=0,
        dampening=0,
        weight_decay=0,
        nesterov=False,
        *,
        maximize=False,
        foreach=None,
        differentiable=False,
        fused=None,
    ):
        if lr is not required:
            _check("SGD", lr, "learning rate")
        _check("SGD", momentum, "momentum value")
        _check("SGD", weight_decay, "weight_decay value")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
                foreach=foreach,
                differentiable=differentiable,
                fused=fused,
            ),
        )

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            decay, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                data = p._data
                d = grad_of(p, maximize)
                if decay:
                    d = d + decay * data
                if momentum:
                    state = self.state[p]
                    buffer = state.get("momentum_buffer")
                    if buffer is None:
                        buffer = state["momentum_buffer"] = from_array(np.array(d, copy=True))
                    else:
                        buf = buffer._data
                        buf *= momentum
                        buf += (1 - dampening) * d
                    d = d + momentum * buffer._data if nesterov else buffer._data
                data -= lr * d
                changed(p, "SGD.step")
        return loss


class Adam(Optimizer):
    """Adam (Kingma and Ba), with PyTorch's bias corrections, eps outside the root, amsgrad, and
    weight decay added to the gradient (AdamW decays the weights instead)."""

    _decoupled = False

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        amsgrad=False,
        *,
        foreach=None,
        maximize=False,
        capturable=False,
        differentiable=False,
        fused=None,
    ):
        name = type(self).__name__
        _check(name, lr, "learning rate")
        _check(name, eps, "epsilon value")
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(f"Invalid beta parameters: {betas}")
        _check(name, weight_decay, "weight_decay value")
        super().__init__(
            params,
            dict(
                lr=lr,
                betas=tuple(betas),
                eps=eps,
                weight_decay=weight_decay,
                amsgrad=amsgrad,
                maximize=maximize,
                foreach=foreach,
                capturable=capturable,
                differentiable=differentiable,
                fused=fused,
            ),
        )

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            decay, amsgrad = group["weight_decay"], group["amsgrad"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                data = p._data
                g = grad_of(p, group["maximize"])
                state = self.state[p]
                if not state:
                    state["step"] = _new_step()
                    state["exp_avg"], state["exp_avg_sq"] = _zeros(p), _zeros(p)
                    if amsgrad:
                        state["max_exp_avg_sq"] = _zeros(p)
                step = step_tensor(state)
                if decay:
                    if self._decoupled:
                        data *= 1 - lr * decay
                    else:
                        g = g + decay * data
                exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
                exp_avg += (g - exp_avg) * (1 - beta1)  # lerp toward g, as PyTorch
                exp_avg_sq *= beta2
                exp_avg_sq += (1 - beta2) * (g * g)
                bias_correction1 = 1 - beta1**step
                correction = 1 - beta2**step  # both rounded roots, so one value either way
                root = math.sqrt(correction) if type(step) is float else np.sqrt(correction)
                root = as_weak(root, data.dtype)
                if amsgrad:
                    peak = state["max_exp_avg_sq"]._data
                    np.maximum(peak, exp_avg_sq, out=peak)
                    denominator = np.sqrt(peak) / root + eps
                else:
                    denominator = np.sqrt(exp_avg_sq) / root + eps
                data -= as_weak(lr / bias_correction1, data.dtype) * (exp_avg / denominator)
                changed(p, f"{type(self).__name__}.step")
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter): p *= 1 - lr * weight_decay."""

    _decoupled = True

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        *,
        maximize=False,
        foreach=None,
        capturable=False,
        differentiable=False,
        fused=None,
    ):
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
        )


class RMSprop(Optimizer):
    """RMSprop as torch.optim.RMSprop: a running mean of squared gradients (centred where
    asked), eps added after the root, optional momentum."""

    def __init__(
        self,
        params,
        lr=1e-2,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0,
        momentum=0,
        centered=False,
        capturable=False,
        foreach=None,
        maximize=False,
        differentiable=False,
    ):
        _check("RMSprop", lr, "learning rate")
        _check("RMSprop", eps, "epsilon value")
        _check("RMSprop", momentum, "momentum value")
        _check("RMSprop", weight_decay, "weight_decay value")
        _check("RMSprop", alpha, "alpha value")
        super().__init__(
            params,
            dict(
                lr=lr,
                alpha=alpha,
                eps=eps,
                weight_decay=weight_decay,
                momentum=momentum,
                centered=centered,
                capturable=capturable,
                foreach=foreach,
                maximize=maximize,
                differentiable=differentiable,
            ),
        )

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            decay, momentum, centered = group["weight_decay"], group["momentum"], group["centered"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                data = p._data
                g = grad_of(p, group["maximize"])
                state = self.state[p]
                if not state:
                    state["step"] = _new_step()
                    state["square_avg"] = _zeros(p)
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros(p)
                    if centered:
                        state["grad_avg"] = _zeros(p)
                step_tensor(state)
                if decay:
                    g = g + decay * data
                square_avg = state["square_avg"]._data
                square_avg *= alpha
                square_avg += (1 - alpha) * (g * g)
                if centered:
                    grad_avg = state["grad_avg"]._data
                    grad_avg += (g - grad_avg) * (1 - alpha)
                    average = np.sqrt(square_avg - grad_avg * grad_avg) + eps
                else:
                    average = np.sqrt(square_avg) + eps
                if momentum > 0:
                    buffer = state["momentum_buffer"]._data
                    buffer *= momentum
                    buffer += g / average
                    data -= lr * buffer
                else:
                    data -= lr * (g / average)
                changed(p, "RMSprop.step")
        return loss


class Adagrad(Optimizer):
    """Adagrad as torch.optim.Adagrad: p -= clr g / (sqrt(sum g^2) + eps), clr decaying with
    lr_decay."""

    def __init__(
        self,
        params,
        lr=1e-2,
        lr_decay=0,
        weight_decay=0,
        initial_accumulator_value=0,
        eps=1e-10,
        foreach=None,
        *,
        maximize=False,
        differentiable=False,
        fused=None,
    ):
        _check("Adagrad", lr, "learning rate")
        _check("Adagrad", lr_decay, "lr_decay value")
        _check("Adagrad", weight_decay, "weight_decay value")
        _check("Adagrad", initial_accumulator_value, "initial_accumulator_value value")
        _check("Adagrad", eps, "epsilon value")
        super().__init__(
            params,
            dict(
                lr=lr,
                lr_decay=lr_decay,
                eps=eps,
                weight_decay=weight_decay,
                initial_accumulator_value=initial_accumulator_value,
                foreach=foreach,
                maximize=maximize,
                differentiable=differentiable,
                fused=fused,
            ),
        )
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _new_step()
                state["sum"] = from_array(np.full_like(p._data, group["initial_accumulator_value"]))

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, lr_decay, eps, decay = (
                group["lr"],
                group["lr_decay"],
                group["eps"],
                group["weight_decay"],
            )
            for p in group["params"]:
                if p._grad is None:
                    continue
                data = p._data
                g = grad_of(p, group["maximize"])
                state = self.state[p]
                step = step_tensor(state)
                if decay:
                    g = g + decay * data
                clr = as_weak(lr / (1 + (step - 1) * lr_decay), data.dtype)
                total = state["sum"]._data
                total += g * g
                data -= clr * (g / (np.sqrt(total) + eps))
                changed(p, "Adagrad.step")
        return loss

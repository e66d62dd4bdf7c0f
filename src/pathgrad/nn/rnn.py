"""RNN, GRU and LSTM, as PyTorch's: the same parameters (weight_ih_l0, ...), gate order, shapes
(`batch_first`, several layers, bidirectional) and initialisation U(-1/sqrt(H), 1/sqrt(H)).

Each layer projects the whole input sequence in one matrix product, then steps through time
with the recurrent product alone; the steps are ordinary ops, so backward is through time.
"""

from __future__ import annotations

import math
from typing import Any

from pathgrad.creation import empty, zeros
from pathgrad.errors import ShapeError
from pathgrad.nn import functional as F
from pathgrad.nn import init
from pathgrad.nn.layers import _factory
from pathgrad.nn.module import Module, Parameter
from pathgrad.ops.elementwise import sigmoid, tanh
from pathgrad.ops.shape import cat, stack, transpose, unsqueeze
from pathgrad.tensor import as_tensor

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "GRU": 3, "LSTM": 4}


class RNNBase(Module):
    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        options = _factory(dtype, device)
        if proj_size:
            raise NotImplementedError(f"{type(self).__name__}: proj_size is not supported")
        if not 0 <= dropout <= 1:
            raise ValueError(f"{type(self).__name__}: dropout must be in [0, 1], got {dropout}")
        if hidden_size <= 0 or num_layers <= 0:
            raise ValueError(f"{type(self).__name__}: hidden_size and num_layers must be positive")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size
        directions = 2 if bidirectional else 1
        gate_size = GATES[mode] * hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = [
                    ("weight_ih", (gate_size, layer_input)),
                    ("weight_hh", (gate_size, hidden_size)),
                ]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                for name, shape in shapes:
                    setattr(self, name + suffix, Parameter(empty(shape, **options)))
                    self._flat_weights_names.append(name + suffix)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    @property
    def all_weights(self) -> list:
        return [getattr(self, name) for name in self._flat_weights_names]

    def _cell(self, x_t, h, c, w_hh, b_hh):
        """One step: x_t is the input's projection (bias_ih included) at this time."""
        recurrent = F.linear(h, w_hh, b_hh)
        hidden = self.hidden_size
        if self.mode == "LSTM":
            gates = x_t + recurrent
            i = sigmoid(gates[:, :hidden])
            f = sigmoid(gates[:, hidden : 2 * hidden])
            g = tanh(gates[:, 2 * hidden : 3 * hidden])
            o = sigmoid(gates[:, 3 * hidden :])
            c = f * c + i * g
            return o * tanh(c), c
        if self.mode == "GRU":
            r = sigmoid(x_t[:, :hidden] + recurrent[:, :hidden])
            z = sigmoid(x_t[:, hidden : 2 * hidden] + recurrent[:, hidden : 2 * hidden])
            n = tanh(x_t[:, 2 * hidden :] + r * recurrent[:, 2 * hidden :])
            return (1 - z) * n + z * h, None
        pre = x_t + recurrent
        return (tanh(pre) if self.mode == "RNN_TANH" else F.relu(pre)), None

    def _direction(self, inputs, h, c, layer, reverse):
        suffix = f"_l{layer}" + ("_reverse" if reverse else "")
        w_ih, w_hh = getattr(self, "weight_ih" + suffix), getattr(self, "weight_hh" + suffix)
        b_ih = getattr(self, "bias_ih" + suffix) if self.bias else None
        b_hh = getattr(self, "bias_hh" + suffix) if self.bias else None
        projected = F.linear(inputs, w_ih, b_ih)  # (L, N, gates * H) in one product
        steps = range(inputs.shape[0] - 1, -1, -1) if reverse else range(inputs.shape[0])
        outputs = [None] * inputs.shape[0]
        for t in steps:
            h, c = self._cell(projected[t], h, c, w_hh, b_hh)
            outputs[t] = h
        return stack(outputs), h, c

    def _check_input(self, x, hx):
        name = type(self).__name__
        if x.ndim not in (2, 3):
            raise ShapeError(f"{name}: expected input of 2 or 3 dims, got shape {tuple(x.shape)}")
        if x.shape[-1] != self.input_size:
            raise ShapeError(
                f"{name}: input of shape {tuple(x.shape)} must end in input_size {self.input_size}"
            )

    def forward(self, input, hx=None):
        x = as_tensor(input)
        self._check_input(x, hx)
        unbatched = x.ndim == 2
        if unbatched:
            x = unsqueeze(x, 1)
            if hx is not None:
                hx = (
                    tuple(unsqueeze(h, 1) for h in hx)
                    if isinstance(hx, tuple)
                    else unsqueeze(hx, 1)
                )
        elif self.batch_first:
            x = transpose(x, 0, 1)
        directions = 2 if self.bidirectional else 1
        batch = x.shape[1]
        expected = (self.num_layers * directions, batch, self.hidden_size)
        h0, c0 = self._initial_state(hx, expected, x)
        last_h, last_c = [], []
        layer_input = x
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                index = layer * directions + direction
                out, h, c = self._direction(
                    layer_input, h0[index], None if c0 is None else c0[index], layer, direction == 1
                )
                outputs.append(out)
                last_h.append(h)
                last_c.append(c)
            layer_input = outputs[0] if directions == 1 else cat(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        output = layer_input
        h_n = stack(last_h)
        c_n = stack(last_c) if self.mode == "LSTM" else None
        if unbatched:
            output, h_n = output[:, 0], h_n[:, 0]
            c_n = None if c_n is None else c_n[:, 0]
        elif self.batch_first:
            output = transpose(output, 0, 1)
        return output, ((h_n, c_n) if self.mode == "LSTM" else h_n)

    def _initial_state(self, hx, expected, x):
        name = type(self).__name__
        if hx is None:
            h0 = zeros(expected, dtype=x.dtype)
            return h0, (zeros(expected, dtype=x.dtype) if self.mode == "LSTM" else None)
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError("LSTM: hx must be a tuple (h_0, c_0)")
            states = tuple(as_tensor(h) for h in hx)
        else:
            states = (as_tensor(hx),)
        for state in states:
            if tuple(state.shape) != expected:
                raise ShapeError(
                    f"{name}: expected hidden state of shape {expected}, got {tuple(state.shape)}"
                )
        return states[0], (states[1] if self.mode == "LSTM" else None)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text


class RNN(RNNBase):
    """h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu), as torch.nn.RNN."""

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        nonlinearity="tanh",
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        device=None,
        dtype=None,
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}, use 'tanh' or 'relu'")
        self.nonlinearity = nonlinearity
        super().__init__(
            "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            0,
            device,
            dtype,
        )

    def __setattr__(self, name, value):
        if name == "nonlinearity" and "_parameters" not in self.__dict__:
            object.__setattr__(self, name, value)  # set before Module.__init__, as PyTorch's
            return
        super().__setattr__(name, value)


class GRU(RNNBase):
    """Gates r, z and candidate n (PyTorch's order and formula: n uses r * (h W_hn^T + b_hn))."""

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        device=None,
        dtype=None,
    ):
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            0,
            device,
            dtype,
        )


class LSTM(RNNBase):
    """Gates i, f, g, o in PyTorch's order; forward returns output, (h_n, c_n)."""

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        proj_size=0,
        device=None,
        dtype=None,
    ):
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device,
            dtype,
        )

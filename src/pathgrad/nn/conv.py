"""Conv1d, as torch.nn.Conv1d (what makemore's WaveNet becomes)."""

from __future__ import annotations

from typing import Any

from pathgrad.creation import empty
from pathgrad.nn import functional as F
from pathgrad.nn.layers import _factory, reset_like_pytorch
from pathgrad.nn.module import Module, Parameter


def _one(value: Any) -> int:
    return value[0] if isinstance(value, (tuple, list)) else value


class Conv1d(Module):
    """A 1-D cross-correlation over (N, C_in, L): weight (C_out, C_in / groups, K) and bias
    drawn from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C_in / groups * K, as PyTorch's."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        options = _factory(dtype, device)
        if in_channels % groups or out_channels % groups:
            raise ValueError("Conv1d: in_channels and out_channels must be divisible by groups")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"Conv1d: padding_mode {padding_mode!r} is not supported")
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(
                f"Conv1d: invalid padding string {padding!r}, should be one of same, valid"
            )
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = (_one(kernel_size),), (_one(stride),)
        self.padding = padding if isinstance(padding, str) else (_one(padding),)
        self.dilation, self.groups, self.padding_mode = (_one(dilation),), groups, padding_mode
        self.weight = Parameter(
            empty((out_channels, in_channels // groups, self.kernel_size[0]), **options)
        )
        if bias:
            self.bias = Parameter(empty(out_channels, **options))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_like_pytorch(self.weight, self.bias)

    def forward(self, input):
        if self.padding_mode != "zeros" and not isinstance(self.padding, str):
            amount = self.padding[0]
            padded = F.pad(input, (amount, amount), mode=self.padding_mode)
            return F.conv1d(
                padded, self.weight, self.bias, self.stride, 0, self.dilation, self.groups
            )
        return F.conv1d(
            input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,):
            text += f", padding={self.padding}"
        if self.dilation != (1,):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text

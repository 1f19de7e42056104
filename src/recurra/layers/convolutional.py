"""``Conv1D``: a convolution over time, inputs ``(B, T, C)`` (channels last), as Keras's.

``y[b, t, o] = act(b_o + Σ_{i, j} W[j, i, o] x[b, s·t + d·j, i])`` over the window of ``kernel_size``
steps (``s`` the stride, ``d`` the dilation). ``padding``: ``"valid"`` (whole windows only), ``"same"``
(``ceil(T / s)`` outputs, zeros added around, as TensorFlow adds them: the extra one after) or
``"causal"`` (zeros before: output ``t`` sees inputs up to ``t`` only). Keras weights
``[kernel (kernel_size, C, filters), bias (filters,)]``; the parameter is kept in torch's layout
``(filters, C, kernel_size)``.

>>> tuple(Conv1D(8, 3, padding="causal")(torch.zeros(2, 10, 4)).shape)
(2, 10, 8)
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from .. import activations, initializers
from ..errors import ConfigError, ShapeError, format_shape
from ..limits import MAX_FEATURES
from .base import Layer, check_positive_int, register

PADDINGS = ("valid", "same", "causal")


def _one(value: Any) -> Any:
    """Keras accepts ``3`` or ``(3,)`` for a 1-D size."""
    return value[0] if isinstance(value, (list, tuple)) and len(value) == 1 else value


@register
class Conv1D(Layer):
    """A 1-D convolution over the time axis (module docstring)."""

    def __init__(
        self,
        filters: int,
        kernel_size: int,
        strides: int = 1,
        padding: str = "valid",
        data_format: str = "channels_last",
        dilation_rate: int = 1,
        groups: int = 1,
        activation: str | None = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        *,
        input_shape=None,
        name: str | None = None,
    ):
        super().__init__(input_shape=input_shape, name=name)
        self.filters = check_positive_int("filters", filters, MAX_FEATURES)
        self.kernel_size = check_positive_int("kernel_size", _one(kernel_size))
        self.strides = check_positive_int("strides", _one(strides))
        self.dilation_rate = check_positive_int("dilation_rate", _one(dilation_rate))
        self.groups = check_positive_int("groups", groups)
        if padding not in PADDINGS:
            raise ConfigError(f"expected padding in {PADDINGS}, got {padding!r}")
        if data_format != "channels_last":
            raise ConfigError(f"expected data_format='channels_last' (inputs (batch, time, channels)), got {data_format!r}")
        if padding == "causal" and self.strides != 1:
            raise ConfigError(f"padding='causal' expected strides=1, got {self.strides}")
        if self.filters % self.groups:
            raise ConfigError(f"expected filters ({self.filters}) divisible by groups ({self.groups})")
        self.padding = padding
        self.activation = activations.canonical(activation)
        self.act = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.serialize(kernel_initializer)
        self.bias_initializer = initializers.serialize(bias_initializer)
        self.weight = self.bias = None
        self._build_from_input_shape()

    def build(self, input_shape, *, dtype=None, device=None):
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ShapeError(f"Conv1D expected input of shape (batch, time, channels), got (batch, {input_shape})")
        channels = int(input_shape[-1])
        if channels % self.groups:
            raise ConfigError(f"expected input channels ({channels}) divisible by groups ({self.groups})")
        w = torch.empty(self.filters, channels // self.groups, self.kernel_size, dtype=dtype, device=device)
        self.weight = nn.Parameter(initializers.get(self.kernel_initializer)(w))
        if self.use_bias:
            b = torch.empty(self.filters, dtype=dtype, device=device)
            self.bias = nn.Parameter(initializers.get(self.bias_initializer)(b))
        self.built = True

    def _pads(self, T: int) -> tuple[int, int]:
        reach = (self.kernel_size - 1) * self.dilation_rate + 1
        if self.padding == "causal":
            return reach - 1, 0
        if self.padding == "same":
            total = max((math.ceil(T / self.strides) - 1) * self.strides + reach - T, 0)
            return total // 2, total - total // 2
        return 0, 0

    def forward(self, x, mask=None):
        if not isinstance(x, torch.Tensor) or x.dim() != 3:
            found = format_shape(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ShapeError(f"Conv1D expected input of shape (batch, time, channels), got {found}")
        self.maybe_build(x)
        channels = self.weight.shape[1] * self.groups
        if x.shape[-1] != channels:
            raise ShapeError(f"Conv1D expected {channels} channels, got input {format_shape(x.shape)}")
        left, right = self._pads(x.shape[1])
        xc = F.pad(x.transpose(1, 2), (left, right))  # (B, T, C) -> (B, C, T + pads)
        y = F.conv1d(xc, self.weight, self.bias, stride=self.strides, dilation=self.dilation_rate, groups=self.groups)
        return self.act(y.transpose(1, 2))  # (B, filters, T') -> (B, T', filters)

    def keras_weights(self):
        self._require_built("get_weights()")
        kernel = self.weight.permute(2, 1, 0)  # (filters, C, k) -> Keras's (k, C, filters)
        return [kernel] + ([self.bias] if self.bias is not None else [])

    def load_keras_weights(self, arrays):
        self.weight.copy_(arrays[0].permute(2, 1, 0))
        if self.bias is not None:
            self.bias.copy_(arrays[1])

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
            "activation": self.activation,
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer,
            "bias_initializer": self.bias_initializer,
        }


__all__ = ["Conv1D"]

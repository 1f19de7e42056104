"""``Conv1D``, ``Conv2D``, ``Conv3D``: Keras's convolutions, inputs channels last.

For ``N`` spatial axes (``Conv1D``: time; ``Conv2D``: rows, cols; ``Conv3D``: depth, rows, cols),
``y[b, p, o] = act(b_o + Σ_{i, j} W[j, i, o] x[b, s ⊙ p + d ⊙ j, i])``, ``j`` running over the
kernel's window (``s`` the strides, ``d`` the dilation, both per axis). ``groups`` splits the input
channels and the filters into that many groups, each filter seeing the channels of its own group.
``padding``: ``"valid"`` (whole windows only), ``"same"`` (``ceil(n / s)`` outputs on an axis of size
``n``, zeros added around, as TensorFlow adds them: the odd one after) or, for ``Conv1D`` only,
``"causal"`` (zeros before: output ``t`` sees inputs up to ``t`` only).

Keras weights ``[kernel (*kernel_size, C / groups, filters), bias (filters,)]``; the parameter is kept
in torch's layout ``(filters, C / groups, *kernel_size)``.

>>> tuple(Conv1D(8, 3, padding="causal")(torch.zeros(2, 10, 4)).shape)
(2, 10, 8)
>>> tuple(Conv2D(8, (3, 2), strides=2, padding="same")(torch.zeros(2, 9, 6, 4)).shape)
(2, 5, 3, 8)
>>> tuple(Conv3D(8, 3)(torch.zeros(2, 5, 6, 7, 4)).shape)
(2, 3, 4, 5, 8)
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .. import activations, initializers
from ..errors import ConfigError, InputValueError, ShapeError, format_shape
from ..limits import MAX_FEATURES
from .base import Layer, check_positive_int, register

PADDINGS = ("valid", "same")
_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def check_sizes(name: str, value: Any, rank: int) -> tuple[int, ...]:
    """Keras's ``3`` or ``(3, 3)``: ``rank`` positive ints, as a tuple; a ``ConfigError`` otherwise."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value,) * rank
    if not isinstance(value, (list, tuple)) or len(value) != rank:
        raise ConfigError(f"expected {name} as a positive integer or a tuple of {rank}, got {value!r}")
    return tuple(check_positive_int(name, v) for v in value)


def check_channels_last(name: str, data_format: Any, layout: str) -> None:
    if data_format not in (None, "channels_last"):
        raise ConfigError(f"{name} expected data_format='channels_last' (inputs {layout}), got {data_format!r}")


def padding_amounts(
    sizes: Sequence[int], kernel: Sequence[int], strides: Sequence[int], dilation: Sequence[int], padding: str
) -> list[tuple[int, int]]:
    """The zeros ``(before, after)`` each spatial axis gets: none for ``"valid"``; for ``"same"``, enough for
    ``ceil(n / s)`` outputs, split as TensorFlow splits it (the odd one after); for ``"causal"``, all before."""
    pads = []
    for n, k, s, d in zip(sizes, kernel, strides, dilation):
        reach = (k - 1) * d + 1
        if padding == "causal":
            pads.append((reach - 1, 0))
        elif padding == "same":
            total = max((math.ceil(n / s) - 1) * s + reach - n, 0)
            pads.append((total // 2, total - total // 2))
        else:
            pads.append((0, 0))
    return pads


def output_sizes(
    sizes: Sequence[int], kernel: Sequence[int], strides: Sequence[int], dilation: Sequence[int], pads: Sequence[tuple[int, int]]
) -> tuple[int, ...]:
    """The spatial sizes a convolution gives (``< 1`` where the input is shorter than the kernel's reach)."""
    return tuple((n + a + b - (k - 1) * d - 1) // s + 1 for n, k, s, d, (a, b) in zip(sizes, kernel, strides, dilation, pads))


def conv_channels_first(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    strides: Sequence[int],
    dilation: Sequence[int],
    pads: Sequence[tuple[int, int]],
    groups: int = 1,
) -> torch.Tensor:
    """torch's convolution of ``x (B, C, *spatial)`` with ``weight (O, C / groups, *kernel)``, ``pads`` per
    axis ``(before, after)``: given to the convolution when even, added to ``x`` first otherwise."""
    if all(a == b for a, b in pads):
        padding = tuple(a for a, _ in pads)
    else:
        x = F.pad(x, [p for a, b in reversed(pads) for p in (a, b)])  # F.pad lists the last axis first
        padding = 0
    return _CONV[len(pads)](x, weight, bias, stride=tuple(strides), padding=padding, dilation=tuple(dilation), groups=groups)


def keras_kernel(weight: torch.Tensor) -> torch.Tensor:
    """torch's ``(O, I, *kernel)`` -> Keras's ``(*kernel, I, O)``."""
    n = weight.dim() - 2
    return weight.permute(*range(2, n + 2), 1, 0)


def torch_kernel(kernel: torch.Tensor) -> torch.Tensor:
    """Keras's ``(*kernel, I, O)`` -> torch's ``(O, I, *kernel)``."""
    n = kernel.dim() - 2
    return kernel.permute(n + 1, n, *range(n))


class _Conv(Layer):
    """An ``N``-D convolution over channels-last inputs (module docstring); subclasses set ``rank``,
    ``layout`` (the input shape in words, for messages) and ``paddings``."""

    rank: int = 0
    layout: str = ""
    paddings: tuple[str, ...] = PADDINGS
    activation_attributes = {"act": "activation"}  # the function of each stored name (ActivationsByName)

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        data_format: str | None = "channels_last",
        dilation_rate: int | Sequence[int] = 1,
        groups: int = 1,
        activation: str | None = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        *,
        input_shape: Sequence[int | None] | None = None,
        name: str | None = None,
    ):
        super().__init__(input_shape=input_shape, name=name)
        self.filters = check_positive_int("filters", filters, MAX_FEATURES)
        self.kernel_size = check_sizes("kernel_size", kernel_size, self.rank)
        self.strides = check_sizes("strides", strides, self.rank)
        self.dilation_rate = check_sizes("dilation_rate", dilation_rate, self.rank)
        self.groups = check_positive_int("groups", groups)
        if padding not in self.paddings:
            raise ConfigError(f"expected padding in {self.paddings}, got {padding!r}")
        check_channels_last(type(self).__name__, data_format, self.layout)
        if self.filters % self.groups:
            raise ConfigError(f"expected filters ({self.filters}) divisible by groups ({self.groups})")
        self.padding = padding
        self.activation = activations.canonical(activation)
        self.resolve_activations()  # self.act
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.serialize(kernel_initializer)
        self.bias_initializer = initializers.serialize(bias_initializer)
        self.weight = self.bias = None
        if self.input_shape is not None and len(self.input_shape) != self.rank + 1:
            raise ConfigError(
                f"{type(self).__name__} expected input_shape={self._layout_without_batch()}, got {format_shape(self.input_shape)}"
            )
        self._build_from_input_shape()

    def _layout_without_batch(self) -> str:
        return "(" + self.layout.removeprefix("(batch, ")

    def build(self, input_shape, *, dtype=None, device=None):
        if len(input_shape) != self.rank + 1 or input_shape[-1] is None:
            raise ShapeError(
                f"{type(self).__name__} expected input of shape {self.layout}, got (batch, {', '.join(map(str, input_shape))})"
            )
        channels = int(input_shape[-1])
        if channels % self.groups:
            raise ConfigError(f"expected input channels ({channels}) divisible by groups ({self.groups})")
        w = torch.empty(self.filters, channels // self.groups, *self.kernel_size, dtype=dtype, device=device)
        self.weight = nn.Parameter(initializers.get(self.kernel_initializer)(w))
        if self.use_bias:
            b = torch.empty(self.filters, dtype=dtype, device=device)
            self.bias = nn.Parameter(initializers.get(self.bias_initializer)(b))
        self.built = True

    def _check_input(self, x: Any) -> None:
        name = type(self).__name__
        if not isinstance(x, torch.Tensor) or x.dim() != self.rank + 2:
            found = format_shape(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ShapeError(f"{name} expected input of shape {self.layout}, got {found}")
        if not x.is_floating_point():
            raise InputValueError(f"{name} expected a floating-point input, got dtype {x.dtype}")

    def forward(self, x, mask=None):
        self._check_input(x)
        self.maybe_build(x)
        name = type(self).__name__
        channels = self.weight.shape[1] * self.groups
        if x.shape[-1] != channels:
            raise ShapeError(f"{name} expected {channels} channels, got input {format_shape(x.shape)}")
        if x.dtype != self.weight.dtype:
            raise InputValueError(f"{name} expected input of dtype {self.weight.dtype} (its weights), got {x.dtype}")
        sizes = tuple(x.shape[1:-1])
        pads = padding_amounts(sizes, self.kernel_size, self.strides, self.dilation_rate, self.padding)
        if min(output_sizes(sizes, self.kernel_size, self.strides, self.dilation_rate, pads)) < 1:
            reach = tuple((k - 1) * d + 1 for k, d in zip(self.kernel_size, self.dilation_rate))
            raise ShapeError(
                f"{name} with padding={self.padding!r} expected spatial sizes of at least {format_shape(reach)} "
                f"(the kernel's reach), got input {format_shape(x.shape)}"
            )
        xc = x.movedim(-1, 1)  # (B, *spatial, C) -> (B, C, *spatial)
        y = conv_channels_first(xc, self.weight, self.bias, self.strides, self.dilation_rate, pads, self.groups)
        return self.act(y.movedim(1, -1))  # (B, filters, *spatial') -> (B, *spatial', filters)

    def keras_weights(self):
        self._require_built("get_weights()")
        return [keras_kernel(self.weight)] + ([self.bias] if self.bias is not None else [])

    def load_keras_weights(self, arrays):
        self.weight.copy_(torch_kernel(arrays[0]))
        if self.bias is not None:
            self.bias.copy_(arrays[1])

    def _config_sizes(self, sizes: tuple[int, ...]) -> Any:
        return list(sizes)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self._config_sizes(self.kernel_size),
            "strides": self._config_sizes(self.strides),
            "padding": self.padding,
            "dilation_rate": self._config_sizes(self.dilation_rate),
            "groups": self.groups,
            "activation": self.activation,
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer,
            "bias_initializer": self.bias_initializer,
        }


@register
class Conv1D(_Conv):
    """A 1-D convolution over the time axis, inputs ``(B, T, C)`` (module docstring); ``padding`` may
    also be ``"causal"`` (with ``strides=1``)."""

    rank = 1
    layout = "(batch, time, channels)"
    paddings = ("valid", "same", "causal")

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        data_format: str | None = "channels_last",
        dilation_rate: int | Sequence[int] = 1,
        groups: int = 1,
        activation: str | None = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        *,
        input_shape: Sequence[int | None] | None = None,
        name: str | None = None,
    ):
        if padding == "causal" and check_sizes("strides", strides, 1) != (1,):
            raise ConfigError(f"padding='causal' expected strides=1, got {check_sizes('strides', strides, 1)[0]}")
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation, use_bias,
                         kernel_initializer, bias_initializer, input_shape=input_shape, name=name)  # fmt: skip

    def _config_sizes(self, sizes: tuple[int, ...]) -> Any:
        return sizes[0]  # Conv1D's configs have always held plain ints


@register
class Conv2D(_Conv):
    """A 2-D convolution, inputs ``(B, H, W, C)`` (module docstring)."""

    rank = 2
    layout = "(batch, rows, cols, channels)"


@register
class Conv3D(_Conv):
    """A 3-D convolution, inputs ``(B, D, H, W, C)`` (module docstring)."""

    rank = 3
    layout = "(batch, depth, rows, cols, channels)"


__all__ = ["Conv1D", "Conv2D", "Conv3D"]

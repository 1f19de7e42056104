"""Pooling over time (Keras's 1-D pooling layers), inputs ``(B, T, F)`` (channels last).

- ``GlobalAveragePooling1D`` / ``GlobalMaxPooling1D``: ``(B, T, F) -> (B, F)``; with a mask only the
  real steps count (the average of a padded sentence is the average of its words);
- ``AveragePooling1D`` / ``MaxPooling1D``: windows of ``pool_size`` steps every ``strides`` steps,
  ``padding="valid"`` (whole windows only) or ``"same"`` (``ceil(T / strides)`` outputs; padded places
  are left out of averages and maxima, as Keras does).

>>> x = torch.tensor([[[1.0], [3.0], [5.0]]])
>>> GlobalAveragePooling1D()(x, mask=torch.tensor([[True, True, False]])).tolist()
[[2.0]]
>>> MaxPooling1D(2)(x).tolist()
[[[3.0]]]
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from ..errors import ConfigError, ShapeError, format_shape
from .base import Layer, check_positive_int, register

PADDINGS = ("valid", "same")


def _check_sequence(layer: Layer, x: torch.Tensor) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 3:
        found = format_shape(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ShapeError(f"{type(layer).__name__} expected input of shape (batch, time, features), got {found}")


class _GlobalPooling1D(Layer):
    def __init__(self, data_format: str = "channels_last", keepdims: bool = False, *, name: str | None = None):
        super().__init__(name=name)
        if data_format != "channels_last":
            raise ConfigError(f"expected data_format='channels_last' (inputs (batch, time, features)), got {data_format!r}")
        self.keepdims = bool(keepdims)
        self.built = True

    def forward(self, x, mask=None):
        _check_sequence(self, x)
        out = self.pool(x, mask)  # (B, F)
        return out.unsqueeze(1) if self.keepdims else out

    def get_config(self):
        return {**super().get_config(), "keepdims": self.keepdims}


@register
class GlobalAveragePooling1D(_GlobalPooling1D):
    """The mean over time of each feature (over the real steps under a mask)."""

    def pool(self, x, mask):
        if mask is None:
            return x.mean(1)
        m = mask.to(x.dtype).unsqueeze(-1)  # (B, T, 1)
        return (x * m).sum(1) / m.sum(1).clamp_min(1.0)


@register
class GlobalMaxPooling1D(_GlobalPooling1D):
    """The maximum over time of each feature (over the real steps under a mask)."""

    def pool(self, x, mask):
        if mask is None:
            return x.amax(1)
        return x.masked_fill(~mask.unsqueeze(-1), float("-inf")).amax(1)


class _Pooling1D(Layer):
    def __init__(self, pool_size: int = 2, strides: int | None = None, padding: str = "valid",
                 data_format: str = "channels_last", *, name: str | None = None):  # fmt: skip
        super().__init__(name=name)
        self.pool_size = check_positive_int("pool_size", pool_size)
        self.strides = check_positive_int("strides", strides) if strides is not None else self.pool_size
        if padding not in PADDINGS:
            raise ConfigError(f"expected padding in {PADDINGS}, got {padding!r}")
        if data_format != "channels_last":
            raise ConfigError(f"expected data_format='channels_last' (inputs (batch, time, features)), got {data_format!r}")
        self.padding = padding
        self.built = True

    def forward(self, x, mask=None):
        _check_sequence(self, x)
        xc = x.transpose(1, 2)  # (B, T, F) -> (B, F, T): torch pools the last axis
        left = right = 0
        if self.padding == "same":
            T = x.shape[1]
            total = max((math.ceil(T / self.strides) - 1) * self.strides + self.pool_size - T, 0)
            left, right = total // 2, total - total // 2
        return self.pool(xc, left, right).transpose(1, 2)  # (B, F, T') -> (B, T', F)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides, "padding": self.padding}


@register
class MaxPooling1D(_Pooling1D):
    """The maximum of each window of ``pool_size`` steps."""

    def pool(self, xc, left, right):
        if left or right:
            xc = F.pad(xc, (left, right), value=float("-inf"))
        return F.max_pool1d(xc, self.pool_size, self.strides)


@register
class AveragePooling1D(_Pooling1D):
    """The mean of each window of ``pool_size`` steps (padded places left out, as in Keras)."""

    def pool(self, xc, left, right):
        if not (left or right):
            return F.avg_pool1d(xc, self.pool_size, self.strides)
        sums = F.avg_pool1d(F.pad(xc, (left, right)), self.pool_size, self.strides) * self.pool_size
        ones = F.pad(torch.ones_like(xc[:1, :1]), (left, right))
        counts = F.avg_pool1d(ones, self.pool_size, self.strides) * self.pool_size  # real places per window
        return sums / counts


__all__ = ["GlobalAveragePooling1D", "GlobalMaxPooling1D", "MaxPooling1D", "AveragePooling1D"]

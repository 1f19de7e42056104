"""Normalisation layers with Keras's arguments, defaults and weight order.

``LayerNormalization``: ``y = γ ⊙ (x - μ) / sqrt(σ² + ε) + β`` with ``μ``, ``σ²`` the mean and
(biased) variance over the last axis of each sample. Keras weights ``[gamma (F,), beta (F,)]``.

``BatchNormalization``: the same with ``μ``, ``σ²`` taken over the batch (and time) for each feature
while training, and the moving averages ``m ← momentum · m + (1 - momentum) · μ`` (likewise ``v`` from
``σ²``) at inference. Under a mask only the real steps count. Keras weights ``[gamma, beta,
moving_mean, moving_variance]``; ``momentum=0.99`` means what it means in Keras (torch's is ``1 - 0.99``).

>>> tuple(LayerNormalization()(torch.randn(2, 5, 3)).shape)
(2, 5, 3)
"""

from __future__ import annotations

import torch
from torch import nn

from .. import initializers
from ..errors import ConfigError, ShapeError, format_shape
from .base import Layer, register


def _check_axis(axis: int) -> int:
    if axis != -1:
        raise ConfigError(f"expected axis=-1 (the features, last), got {axis!r}")
    return axis


class _Normalization(Layer):
    supports_masking = True

    def __init__(self, *, axis: int = -1, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 beta_initializer="zeros", gamma_initializer="ones", input_shape=None, name: str | None = None):  # fmt: skip
        super().__init__(input_shape=input_shape, name=name)
        self.axis = _check_axis(axis)
        if not isinstance(epsilon, (int, float)) or epsilon <= 0:
            raise ConfigError(f"expected epsilon > 0, got {epsilon!r}")
        self.epsilon, self.center, self.scale = float(epsilon), bool(center), bool(scale)
        self.beta_initializer = initializers.serialize(beta_initializer)
        self.gamma_initializer = initializers.serialize(gamma_initializer)
        self.gamma = self.beta = None
        self.features: int | None = None
        self._build_from_input_shape()

    def build(self, input_shape, *, dtype=None, device=None):
        if not input_shape or input_shape[-1] is None:
            raise ShapeError(f"{type(self).__name__} expected inputs with a known last axis, got (batch, {input_shape})")
        self.features = int(input_shape[-1])
        def vector(initializer: str) -> nn.Parameter:
            return nn.Parameter(initializers.get(initializer)(torch.empty(self.features, dtype=dtype, device=device)))

        if self.scale:
            self.gamma = vector(self.gamma_initializer)
        if self.center:
            self.beta = vector(self.beta_initializer)
        self.built = True

    def _affine(self, z: torch.Tensor) -> torch.Tensor:
        if self.gamma is not None:
            z = z * self.gamma
        if self.beta is not None:
            z = z + self.beta
        return z

    def keras_weights(self):
        self._require_built("get_weights()")
        return [w for w in (self.gamma, self.beta) if w is not None]

    def load_keras_weights(self, arrays):
        for w, a in zip([w for w in (self.gamma, self.beta) if w is not None], arrays):
            w.copy_(a)

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": self.beta_initializer,
            "gamma_initializer": self.gamma_initializer,
        }


@register
class LayerNormalization(_Normalization):
    """Normalises each sample over its features (module docstring)."""

    def forward(self, x, mask=None):
        self.maybe_build(x)
        if x.shape[-1] != self.features:
            raise ShapeError(f"LayerNormalization expected {self.features} features, got {format_shape(x.shape)}")
        mean = x.mean(-1, keepdim=True)
        var = x.var(-1, unbiased=False, keepdim=True)
        return self._affine((x - mean) / torch.sqrt(var + self.epsilon))


@register
class BatchNormalization(_Normalization):
    """Normalises each feature over the batch while training, by moving averages at inference (module docstring)."""

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer="zeros", gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", *, input_shape=None, name: str | None = None):  # fmt: skip
        if not isinstance(momentum, (int, float)) or not 0 <= momentum < 1:
            raise ConfigError(f"expected momentum in [0, 1), got {momentum!r}")
        self.momentum = float(momentum)
        self.moving_mean_initializer = initializers.serialize(moving_mean_initializer)
        self.moving_variance_initializer = initializers.serialize(moving_variance_initializer)
        super().__init__(axis=axis, epsilon=epsilon, center=center, scale=scale, beta_initializer=beta_initializer,
                         gamma_initializer=gamma_initializer, input_shape=input_shape, name=name)  # fmt: skip

    def build(self, input_shape, *, dtype=None, device=None):
        super().build(input_shape, dtype=dtype, device=device)
        mean = torch.empty(self.features, dtype=dtype, device=device)
        var = torch.empty(self.features, dtype=dtype, device=device)
        self.register_buffer("moving_mean", initializers.get(self.moving_mean_initializer)(mean))
        self.register_buffer("moving_variance", initializers.get(self.moving_variance_initializer)(var))

    def forward(self, x, mask=None, training: bool | None = None):
        self.maybe_build(x)
        if x.shape[-1] != self.features:
            raise ShapeError(f"BatchNormalization expected {self.features} features, got {format_shape(x.shape)}")
        training = self.training if training is None else training
        if not training:
            return self._affine((x - self.moving_mean) / torch.sqrt(self.moving_variance + self.epsilon))
        flat = x.reshape(-1, self.features)  # (N, F): every sample and step
        if mask is not None and x.dim() == 3:
            flat = flat[mask.reshape(-1)]  # the real steps only
        mean, var = flat.mean(0), flat.var(0, unbiased=False)
        with torch.no_grad():
            self.moving_mean.mul_(self.momentum).add_(mean.detach(), alpha=1 - self.momentum)
            self.moving_variance.mul_(self.momentum).add_(var.detach(), alpha=1 - self.momentum)
        return self._affine((x - mean) / torch.sqrt(var + self.epsilon))

    def keras_weights(self):
        return super().keras_weights() + [self.moving_mean, self.moving_variance]

    def load_keras_weights(self, arrays):
        n = len(super().keras_weights())
        super().load_keras_weights(arrays[:n])
        self.moving_mean.copy_(arrays[n])
        self.moving_variance.copy_(arrays[n + 1])

    def get_config(self):
        return {
            **super().get_config(),
            "momentum": self.momentum,
            "moving_mean_initializer": self.moving_mean_initializer,
            "moving_variance_initializer": self.moving_variance_initializer,
        }


__all__ = ["LayerNormalization", "BatchNormalization"]

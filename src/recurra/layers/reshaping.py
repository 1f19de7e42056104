"""Layers that reshape (Keras's reshaping layers): ``RepeatVector``, ``Reshape``, ``Permute``, and
``Lambda`` (any function of the input).

>>> tuple(RepeatVector(4)(torch.zeros(2, 3)).shape)
(2, 4, 3)
>>> tuple(Reshape((3, -1))(torch.zeros(2, 12)).shape)
(2, 3, 4)
>>> tuple(Permute((2, 1))(torch.zeros(2, 5, 3)).shape)
(2, 3, 5)
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import torch  # noqa: F401  (the examples above use it)

from ..errors import ConfigError, ShapeError, format_shape
from .base import Layer, check_positive_int, register


@register
class RepeatVector(Layer):
    """``(B, F) -> (B, n, F)``: the same vector at each of ``n`` steps (an encoder's summary fed to a
    decoder at every step, as in Keras's addition example)."""

    def __init__(self, n: int, *, name: str | None = None):
        super().__init__(name=name)
        self.n = check_positive_int("n", n)
        self.built = True

    def forward(self, x, mask=None):
        if x.dim() != 2:
            raise ShapeError(f"RepeatVector expected input of shape (batch, features), got {format_shape(x.shape)}")
        return x.unsqueeze(1).expand(-1, self.n, -1)  # (B, F) -> (B, n, F)

    def get_config(self):
        return {**super().get_config(), "n": self.n}


@register
class Reshape(Layer):
    """``(B, ...) -> (B, *target_shape)``; one entry may be ``-1`` (what the other sizes leave)."""

    def __init__(self, target_shape: Sequence[int], *, name: str | None = None):
        super().__init__(name=name)
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in self.target_shape) > 1 or any(d == 0 or d < -1 for d in self.target_shape):
            raise ConfigError(f"expected target_shape of positive sizes and at most one -1, got {target_shape!r}")
        self.built = True

    def forward(self, x, mask=None):
        try:
            return x.reshape(x.shape[0], *self.target_shape)
        except RuntimeError:
            target = ", ".join(map(str, self.target_shape))
            raise ShapeError(f"Reshape cannot make {format_shape(x.shape)} into (batch, {target})") from None

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


@register
class Permute(Layer):
    """Reorders the axes after the batch: ``dims`` counts them from 1, as Keras does (``Permute((2, 1))``
    swaps time and features)."""

    def __init__(self, dims: Sequence[int], *, name: str | None = None):
        super().__init__(name=name)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ConfigError(f"expected dims to be a permutation of 1..{len(self.dims)}, got {dims!r}")
        self.built = True

    def forward(self, x, mask=None):
        if x.dim() != len(self.dims) + 1:
            raise ShapeError(f"Permute{self.dims} expected input of rank {len(self.dims) + 1}, got {format_shape(x.shape)}")
        return x.permute(0, *self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": list(self.dims)}


@register
class Lambda(Layer):
    """Any function of the input, ``function(x)`` (a tensor in, a tensor out; ``recurra.ops`` holds the
    array functions). ``arguments``: more keyword arguments for it. A model holding a ``Lambda`` trains
    and predicts; it cannot be saved, because loading a file never runs code from it: write the step as a
    ``Layer`` subclass and register it (``recurra.saving.register_keras_serializable``) to save it."""

    supports_masking = True

    def __init__(self, function: Callable[..., Any], output_shape: Any = None, mask: Any = None,
                 arguments: dict | None = None, *, name: str | None = None):  # fmt: skip
        super().__init__(name=name)
        if not callable(function):
            raise ConfigError(f"Lambda expected a function, got {type(function).__name__}")
        self.function, self.arguments = function, dict(arguments or {})
        self.built = True

    def forward(self, x, mask=None):
        return self.function(x, **self.arguments)

    def get_config(self):
        raise ConfigError(
            "a Lambda layer holds Python code, which a saved model cannot hold (loading a file never runs code); "
            "write the step as a Layer subclass and register it with recurra.saving.register_keras_serializable"
        )


__all__ = ["RepeatVector", "Reshape", "Permute", "Lambda"]

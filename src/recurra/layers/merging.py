"""Layers that merge several tensors into one (Keras's merging layers): ``Concatenate``, ``Add``,
``Subtract``, ``Multiply``, ``Average``, ``Maximum``, ``Minimum`` and ``Dot``.

Each takes a list of tensors, ``layer([a, b])``. Masks: the output keeps a step when every input that
has a mask keeps it (Keras's rule), so a merged sequence is masked where any of its parts is padding.

>>> tuple(Concatenate()([torch.zeros(2, 5, 3), torch.ones(2, 5, 4)]).shape)
(2, 5, 7)
>>> Add()([torch.ones(2, 3), torch.ones(2, 3)]).tolist()
[[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]
"""

from __future__ import annotations

from functools import reduce
from typing import Any, Sequence

import torch
from torch.nn import functional as F

from ..errors import ConfigError, ShapeError, format_shape
from .base import Layer, register


def _check_list(layer: Layer, xs: Any, at_least: int = 2) -> list[torch.Tensor]:
    name = type(layer).__name__
    if not isinstance(xs, (list, tuple)) or len(xs) < at_least or not all(isinstance(x, torch.Tensor) for x in xs):
        found = type(xs).__name__ if not isinstance(xs, (list, tuple)) else f"{len(xs)} item(s)"
        raise ShapeError(f"{name} expected a list of at least {at_least} tensors, got {found}")
    return list(xs)


class _Merge(Layer):
    """Base of the elementwise merges: every input of one shape (broadcasting aside), ``combine`` folds them."""

    least = 2  # inputs at least

    def __init__(self, *, name: str | None = None):
        super().__init__(name=name)
        self.built = True

    def forward(self, xs, mask=None):
        xs = _check_list(self, xs, self.least)
        shapes = {tuple(x.shape) for x in xs}
        if len(shapes) > 1:
            try:
                torch.broadcast_shapes(*shapes)
            except RuntimeError:
                found = ", ".join(format_shape(x.shape) for x in xs)
                raise ShapeError(f"{type(self).__name__} expected inputs of one shape, got {found}") from None
        return self.combine(xs)

    def combine(self, xs: list[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def compute_mask(self, xs, mask):
        if mask is None:
            return None
        masks = [m for m in (mask if isinstance(mask, (list, tuple)) else [mask]) if m is not None]
        return reduce(torch.logical_and, masks) if masks else None


@register
class Add(_Merge):
    """``x_1 + x_2 + ...``."""

    def combine(self, xs):
        return reduce(torch.add, xs)


@register
class Subtract(_Merge):
    """``x_1 - x_2`` (exactly two inputs)."""

    def combine(self, xs):
        if len(xs) != 2:
            raise ShapeError(f"Subtract expected exactly 2 inputs, got {len(xs)}")
        return xs[0] - xs[1]


@register
class Multiply(_Merge):
    """``x_1 ⊙ x_2 ⊙ ...``."""

    def combine(self, xs):
        return reduce(torch.mul, xs)


@register
class Average(_Merge):
    """``(x_1 + ... + x_n) / n``."""

    def combine(self, xs):
        return reduce(torch.add, xs) / len(xs)


@register
class Maximum(_Merge):
    """Elementwise maximum of the inputs."""

    def combine(self, xs):
        return reduce(torch.maximum, xs)


@register
class Minimum(_Merge):
    """Elementwise minimum of the inputs."""

    def combine(self, xs):
        return reduce(torch.minimum, xs)


@register
class Concatenate(_Merge):
    """The inputs joined along ``axis`` (default the last: features). Shapes: ``[(B, T, F1), (B, T, F2)]
    -> (B, T, F1 + F2)``."""

    def __init__(self, axis: int = -1, *, name: str | None = None):
        super().__init__(name=name)
        self.axis = int(axis)
        self.built = True

    def forward(self, xs, mask=None):
        xs = _check_list(self, xs, 1)
        ranks = {x.dim() for x in xs}
        if len(ranks) > 1:
            raise ShapeError(f"Concatenate expected inputs of one rank, got {', '.join(format_shape(x.shape) for x in xs)}")
        try:
            return torch.cat(xs, dim=self.axis)
        except RuntimeError:
            found = ", ".join(format_shape(x.shape) for x in xs)
            expected = f"Concatenate(axis={self.axis}) expected shapes that match except on that axis"
            raise ShapeError(f"{expected}, got {found}") from None

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


@register
class Dot(Layer):
    """The dot product of two tensors along ``axes`` (Keras's ``Dot``): ``(B, T, F) · (B, S, F)`` with
    ``axes=(2, 2)`` -> ``(B, T, S)``; ``normalize=True`` takes the cosine (L2-normalised inputs)."""

    def __init__(self, axes: int | Sequence[int], normalize: bool = False, *, name: str | None = None):
        super().__init__(name=name)
        self.axes = [int(axes), int(axes)] if isinstance(axes, int) else [int(a) for a in axes]
        if len(self.axes) != 2:
            raise ConfigError(f"expected axes as one int or two, got {axes!r}")
        self.normalize = bool(normalize)
        self.built = True

    def forward(self, xs, mask=None):
        a, b = _check_list(self, xs, 2)[:2]
        ax_a, ax_b = (ax % x.dim() for ax, x in zip(self.axes, (a, b)))
        if self.normalize:
            a, b = F.normalize(a, dim=ax_a), F.normalize(b, dim=ax_b)
        if a.dim() == 2 and b.dim() == 2:
            return (a * b).sum(-1, keepdim=True)  # (B, F) · (B, F) -> (B, 1)
        a = a.movedim(ax_a, -1)  # (B, ..., F)
        b = b.movedim(ax_b, 1)  # (B, F, ...)
        return torch.matmul(a.reshape(a.shape[0], -1, a.shape[-1]), b.reshape(b.shape[0], b.shape[1], -1)).reshape(
            *a.shape[:-1], *b.shape[2:]
        )

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot"]

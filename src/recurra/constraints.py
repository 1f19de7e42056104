"""Constraints applied to a weight after each optimiser step (Keras's ``keras.constraints``).

A constraint maps a weight ``W`` (in Keras's layout: a kernel is ``(fan_in, fan_out)``) to the nearest
allowed one:

- ``MaxNorm(max_value=2, axis=0)``: each vector along ``axis`` scaled down to norm ``≤ max_value``;
- ``MinMaxNorm(min_value=0, max_value=1, rate=1, axis=0)``: norms moved ``rate`` of the way into
  ``[min_value, max_value]``;
- ``UnitNorm(axis=0)``: norms 1;
- ``NonNeg()``: negative entries set to 0.

With ``axis=0`` (the default) each output unit's incoming weights are constrained, as in Keras. Layers
take them as ``kernel_constraint=``, ``recurrent_constraint=``, ``bias_constraint=``; ``fit`` applies
them after every step.

>>> NonNeg()(torch.tensor([-1.0, 2.0])).tolist()
[0.0, 2.0]
"""

from __future__ import annotations

from typing import Any, Sequence, Union

import torch

from .errors import ConfigError
from .registry import object_from_spec

EPSILON = 1e-7  # Keras's backend epsilon, in the norm divisions


def _axes(axis: int | Sequence[int]) -> list[int]:
    return [int(axis)] if isinstance(axis, (int,)) else [int(a) for a in axis]


class Constraint:
    """Maps a weight to an allowed one; ``get_config`` lists its arguments."""

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w

    def get_config(self) -> dict[str, Any]:
        return {}

    def serialize(self) -> dict[str, Any]:
        return {"class_name": type(self).__name__, "config": self.get_config()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MaxNorm(Constraint):
    """``W · clip(n, 0, max_value) / (ε + n)``, ``n`` the L2 norms along ``axis``."""

    def __init__(self, max_value: float = 2.0, axis: int | Sequence[int] = 0):
        self.max_value, self.axis = float(max_value), axis

    def __call__(self, w):
        norms = w.square().sum(dim=_axes(self.axis), keepdim=True).sqrt()
        return w * (norms.clamp(0.0, self.max_value) / (EPSILON + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """``W · (rate · clip(n, min, max) + (1 - rate) · n) / (ε + n)``."""

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0, axis: int | Sequence[int] = 0):
        if min_value > max_value:
            raise ConfigError(f"expected min_value <= max_value, got {min_value!r} > {max_value!r}")
        self.min_value, self.max_value, self.rate, self.axis = float(min_value), float(max_value), float(rate), axis

    def __call__(self, w):
        norms = w.square().sum(dim=_axes(self.axis), keepdim=True).sqrt()
        wanted = self.rate * norms.clamp(self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (wanted / (EPSILON + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


class UnitNorm(Constraint):
    """``W / (ε + n)``: unit norms along ``axis``."""

    def __init__(self, axis: int | Sequence[int] = 0):
        self.axis = axis

    def __call__(self, w):
        return w / (EPSILON + w.square().sum(dim=_axes(self.axis), keepdim=True).sqrt())

    def get_config(self):
        return {"axis": self.axis}


class NonNeg(Constraint):
    """``max(W, 0)``."""

    def __call__(self, w):
        return w.clamp_min(0.0)


_CLASSES: dict[str, type[Constraint]] = {
    "max_norm": MaxNorm,
    "min_max_norm": MinMaxNorm,
    "unit_norm": UnitNorm,
    "non_neg": NonNeg,
}
for _cls in (MaxNorm, MinMaxNorm, UnitNorm, NonNeg):
    _CLASSES[_cls.__name__] = _cls

ConstraintLike = Union[str, dict, Constraint, None]


def get(spec: ConstraintLike) -> Constraint | None:
    """A name, a ``{"class_name", "config"}`` dict, an instance or ``None`` as a constraint (or ``None``)."""
    return object_from_spec("constraint", spec, _CLASSES, Constraint)


def serialize(spec: ConstraintLike) -> dict | None:
    """The JSON form of a constraint spec (``None`` stays ``None``)."""
    found = get(spec)
    return None if found is None else found.serialize()


def register(cls: type[Constraint]) -> type[Constraint]:
    """Make a ``Constraint`` subclass loadable by its class name."""
    _CLASSES[cls.__name__] = cls
    return cls


max_norm, min_max_norm, unit_norm, non_neg = MaxNorm, MinMaxNorm, UnitNorm, NonNeg  # Keras's lower-case aliases

__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "UnitNorm", "NonNeg", "get", "serialize", "register"]

"""Weight penalties added to the training loss (Keras's ``keras.regularizers``).

A regularizer maps a weight ``W`` (in Keras's layout) to a scalar added to the loss:

- ``L1(l1)``: ``l1 · Σ|W|``;
- ``L2(l2)``: ``l2 · Σ W²`` (Keras's convention: no factor 1/2);
- ``L1L2(l1, l2)``: both;
- ``OrthogonalRegularizer(factor, mode)``: ``factor · mean |Ŵ Ŵᵀ - I|`` over the off-diagonal entries,
  ``Ŵ`` the rows (``mode="rows"``) or columns (``"columns"``) of ``W`` scaled to unit length.

Layers take them as ``kernel_regularizer=``, ``recurrent_regularizer=``, ``bias_regularizer=``,
``activity_regularizer=`` (on the layer's output), by name (``"l2"``), as an instance or as the
``{"class_name", "config"}`` dict ``serialize`` writes. ``model.losses`` lists the penalties;
``fit`` adds their sum to the loss it minimises (the loss it reports includes them, as Keras's does).

>>> float(L2(0.5)(torch.tensor([1.0, -2.0])))
2.5
"""

from __future__ import annotations

from typing import Any, Union

import torch

from .errors import ConfigError
from .registry import object_from_spec


def _factor(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or value != value or value == float("inf"):
        raise ConfigError(f"expected {name} to be a finite number >= 0, got {value!r}")
    return float(value)


class Regularizer:
    """Maps a weight to a scalar penalty; ``get_config`` lists its arguments."""

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    def serialize(self) -> dict[str, Any]:
        return {"class_name": type(self).__name__, "config": self.get_config()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """``l1 · Σ|W| + l2 · Σ W²``."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1, self.l2 = _factor("l1", l1), _factor("l2", l2)

    def __call__(self, w):
        penalty = w.new_zeros(())
        if self.l1:
            penalty = penalty + self.l1 * w.abs().sum()
        if self.l2:
            penalty = penalty + self.l2 * w.square().sum()
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 · Σ|W|`` (Keras's default factor 0.01)."""

    def __init__(self, l1: float = 0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 · Σ W²`` (Keras's default factor 0.01)."""

    def __init__(self, l2: float = 0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """``factor · mean_{i≠j} |(Ŵ Ŵᵀ)_ij|``: pushes the rows (or columns) of a 2-D weight apart."""

    def __init__(self, factor: float = 0.01, mode: str = "rows"):
        if mode not in ("rows", "columns"):
            raise ConfigError(f"expected mode 'rows' or 'columns', got {mode!r}")
        self.factor, self.mode = _factor("factor", factor), mode

    def __call__(self, w):
        if w.dim() != 2:
            raise ConfigError(f"OrthogonalRegularizer expected a 2-D weight, got shape {tuple(w.shape)}")
        v = w if self.mode == "rows" else w.T  # (n, d): the vectors to keep apart
        v = v / v.norm(dim=1, keepdim=True).clamp_min(1e-12)
        product = v @ v.T  # (n, n)
        n = product.shape[0]
        off = product - torch.diag(torch.diagonal(product))
        return self.factor * off.abs().sum() / max(n * (n - 1), 1)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


_CLASSES: dict[str, type[Regularizer]] = {
    "l1": L1,
    "l2": L2,
    "l1_l2": L1L2,
    "l1l2": L1L2,
    "orthogonal_regularizer": OrthogonalRegularizer,
}
for _cls in (L1, L2, L1L2, OrthogonalRegularizer):
    _CLASSES[_cls.__name__] = _cls

RegularizerLike = Union[str, dict, Regularizer, None]


def get(spec: RegularizerLike) -> Regularizer | None:
    """A name, a ``{"class_name", "config"}`` dict, an instance or ``None`` as a regularizer (or ``None``)."""
    return object_from_spec("regularizer", spec, _CLASSES, Regularizer)


def serialize(spec: RegularizerLike) -> dict | None:
    """The JSON form of a regularizer spec (``None`` stays ``None``)."""
    found = get(spec)
    return None if found is None else found.serialize()


def register(cls: type[Regularizer]) -> type[Regularizer]:
    """Make a ``Regularizer`` subclass loadable by its class name."""
    _CLASSES[cls.__name__] = cls
    return cls


l1, l2, l1_l2 = L1, L2, L1L2  # Keras's lower-case aliases

__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "get", "serialize", "register", "l1", "l2", "l1_l2"]

"""``recurra.losses``: Keras's ``keras.losses`` names (classes, and the functions ``mse`` ... as names
``compile`` takes); see ``recurra.train.losses``.

Keras's loss functions are here too, called as Keras calls them, ``fn(y_true, y_pred)``, giving one loss per
sample (the last axis reduced), and taken by ``compile(loss=keras.losses.binary_crossentropy)``:

>>> float(binary_crossentropy([[1.0]], [[0.5]])[0])  # -log(0.5)
0.6931...
>>> compiled = get(binary_crossentropy)  # what compile does with it: the loss of that name
>>> type(compiled).__name__
'BinaryCrossentropy'
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from .errors import ConfigError
from .ops import convert_to_tensor
from .train.losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    Huber,
    Loss,
    MeanAbsoluteError,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
)
from .train.losses import get as get


class _KerasLossFunction(str):
    """A Keras loss function (``keras.losses.binary_crossentropy`` ...).

    Called, it takes Keras's order, ``(y_true, y_pred, **options)``, and returns the loss of each sample.
    Given to ``compile(loss=...)`` it stands for the loss of its name: it is that name (a ``str``), because
    ``compile`` calls a plain callable as torch's losses are called, ``fn(y_pred, y_true)``, which would
    swap Keras's arguments.
    """

    def __new__(cls, name: str, compute: Callable[..., torch.Tensor]) -> _KerasLossFunction:
        fn = super().__new__(cls, name)
        fn._compute = compute
        fn.__name__ = fn.__qualname__ = name
        fn.__doc__ = compute.__doc__
        return fn

    def __call__(self, y_true: Any, y_pred: Any, **options: Any) -> torch.Tensor:
        y_pred = convert_to_tensor(y_pred)
        y_true = convert_to_tensor(y_true)
        axis = options.pop("axis", -1)
        if axis not in (-1, y_pred.dim() - 1):
            raise ConfigError(f"{self}: recurra reduces the last axis only (axis=-1), got axis={axis!r}")
        return self._compute(y_true, y_pred, **options)

    def __repr__(self) -> str:
        return f"<Keras loss function {str.__str__(self)}>"


def _smoothed(y_true: torch.Tensor, y_pred: torch.Tensor, label_smoothing: float, classes: float) -> torch.Tensor:
    y = y_true.to(y_pred.dtype)
    if not 0.0 <= float(label_smoothing) <= 1.0:
        raise ConfigError(f"expected label_smoothing in [0, 1], got {label_smoothing!r}")
    return y * (1.0 - label_smoothing) + label_smoothing / classes if label_smoothing else y


def _binary_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0) -> torch.Tensor:
    """Binary cross-entropy of each sample, averaged over the last axis (Keras's ``binary_crossentropy``)."""
    y = _smoothed(y_true, y_pred, label_smoothing, 2.0)
    return BinaryCrossentropy(from_logits=from_logits).values(y_pred, y)


def _categorical_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0) -> torch.Tensor:
    """Cross-entropy of each sample over one-hot targets (Keras's ``categorical_crossentropy``)."""
    y = _smoothed(y_true, y_pred, label_smoothing, float(y_pred.shape[-1]))
    return CategoricalCrossentropy(from_logits=from_logits).values(y_pred, y)


def _sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False, ignore_class: int | None = None):
    """Cross-entropy of each sample over integer class ids, 0 where the id is ``ignore_class``
    (Keras's ``sparse_categorical_crossentropy``)."""
    return SparseCategoricalCrossentropy(from_logits=from_logits, ignore_index=ignore_class).values(y_pred, y_true)


def _mean_squared_error(y_true, y_pred) -> torch.Tensor:
    """The mean squared error of each sample over the last axis (Keras's ``mean_squared_error``)."""
    return MeanSquaredError().values(y_pred, y_true)


def _mean_absolute_error(y_true, y_pred) -> torch.Tensor:
    """The mean absolute error of each sample over the last axis (Keras's ``mean_absolute_error``)."""
    return MeanAbsoluteError().values(y_pred, y_true)


def _huber(y_true, y_pred, delta: float = 1.0) -> torch.Tensor:
    """The Huber loss of each sample over the last axis (Keras's ``huber``)."""
    return Huber(delta=delta).values(y_pred, y_true)


binary_crossentropy = _KerasLossFunction("binary_crossentropy", _binary_crossentropy)
categorical_crossentropy = _KerasLossFunction("categorical_crossentropy", _categorical_crossentropy)
sparse_categorical_crossentropy = _KerasLossFunction("sparse_categorical_crossentropy", _sparse_categorical_crossentropy)
mean_squared_error = _KerasLossFunction("mean_squared_error", _mean_squared_error)
mean_absolute_error = _KerasLossFunction("mean_absolute_error", _mean_absolute_error)
huber = _KerasLossFunction("huber", _huber)

__all__ = [
    "Loss",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "Huber",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "get",
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "mean_squared_error",
    "mean_absolute_error",
    "huber",
]

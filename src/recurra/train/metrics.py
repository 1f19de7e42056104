"""Metrics by Keras name, averaged over all samples of an epoch.

``"accuracy"`` is resolved as Keras does: binary for ``binary_crossentropy`` or a single output
unit, sparse categorical for integer targets, categorical for one-hot targets.
"""

from __future__ import annotations

from typing import Any, Callable, Union

import torch

from ..errors import unknown_name
from .losses import _match


class Metric:
    """Running mean of a per-sample value: ``update(y_pred, y_true)``, ``result()``, ``reset()``."""

    name = "metric"

    def __init__(self, name: str | None = None):
        if name is not None:
            self.name = name
        self.reset()

    def reset(self) -> None:
        self.total: torch.Tensor | float = 0.0
        self.count = 0

    def values(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        """Per-element values to average."""
        raise NotImplementedError

    @torch.no_grad()
    def update(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> None:
        v = self.values(y_pred, y_true)
        self.total = self.total + v.sum().detach().double()
        self.count += v.numel()

    def result(self) -> float:
        return float(self.total) / max(self.count, 1)


class MeanSquaredError(Metric):
    name = "mse"

    def values(self, y_pred, y_true):
        return (y_pred - _match(y_pred, y_true, self.name).to(y_pred.dtype)) ** 2


class MeanAbsoluteError(Metric):
    name = "mae"

    def values(self, y_pred, y_true):
        return (y_pred - _match(y_pred, y_true, self.name).to(y_pred.dtype)).abs()


class RootMeanSquaredError(MeanSquaredError):
    name = "rmse"

    def result(self) -> float:
        return super().result() ** 0.5


class BinaryAccuracy(Metric):
    name = "binary_accuracy"

    def __init__(self, name: str | None = None, threshold: float = 0.5):
        self.threshold = threshold
        super().__init__(name)

    def values(self, y_pred, y_true):
        y = _match(y_pred, y_true, self.name)
        return ((y_pred > self.threshold) == (y > 0.5)).float()


class CategoricalAccuracy(Metric):
    name = "categorical_accuracy"

    def values(self, y_pred, y_true):
        return (y_pred.argmax(-1) == y_true.argmax(-1)).float()


class SparseCategoricalAccuracy(Metric):
    name = "sparse_categorical_accuracy"

    def values(self, y_pred, y_true):
        ids = y_true.squeeze(-1) if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1 else y_true
        return (y_pred.argmax(-1) == ids.long()).float()


class Accuracy(Metric):
    """Keras's ``"accuracy"``: the kind is chosen from the loss and the first batch."""

    name = "accuracy"

    def __init__(self, name: str | None = None, loss_name: str | None = None):
        self.loss_name = loss_name
        self.inner: Metric | None = None
        super().__init__(name)

    def reset(self):
        super().reset()
        if getattr(self, "inner", None) is not None:
            self.inner.reset()

    def _resolve(self, y_pred, y_true) -> Metric:
        if self.loss_name == "binary_crossentropy" or y_pred.shape[-1] == 1:
            return BinaryAccuracy()
        if self.loss_name == "sparse_categorical_crossentropy" or y_true.shape != y_pred.shape:
            return SparseCategoricalAccuracy()
        return CategoricalAccuracy()

    def update(self, y_pred, y_true):
        if self.inner is None:
            self.inner = self._resolve(y_pred, y_true)
        self.inner.update(y_pred, y_true)

    def result(self):
        return self.inner.result() if self.inner is not None else 0.0


class FunctionMetric(Metric):
    """A user function ``fn(y_pred, y_true) -> tensor`` averaged over elements."""

    def __init__(self, fn: Callable, name: str | None = None):
        self.fn = fn
        super().__init__(name or getattr(fn, "__name__", "metric"))

    def values(self, y_pred, y_true):
        return torch.as_tensor(self.fn(y_pred, y_true))


METRICS: dict[str, type[Metric]] = {
    "accuracy": Accuracy,
    "acc": Accuracy,
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "mean_absolute_error": MeanAbsoluteError,
    "rmse": RootMeanSquaredError,
    "root_mean_squared_error": RootMeanSquaredError,
}

MetricLike = Union[str, Metric, Callable[..., Any]]


def get(spec: MetricLike, loss_name: str | None = None) -> Metric:
    """Resolve a metric name, a Metric, or a function ``fn(y_pred, y_true)``."""
    if isinstance(spec, Metric):
        return spec
    if isinstance(spec, str):
        key = spec.lower()
        if key not in METRICS:
            raise unknown_name("metric", spec, list(METRICS))
        cls = METRICS[key]
        if cls is Accuracy:
            return Accuracy(name=spec, loss_name=loss_name)
        return cls(name=spec)
    if callable(spec):
        return FunctionMetric(spec)
    raise TypeError(f"expected a metric name, a Metric, or a callable(y_pred, y_true), got {type(spec).__name__}")

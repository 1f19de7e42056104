"""Losses by Keras name. A loss maps ``(y_pred, y_true)`` to a scalar, the mean over the batch.

Cross-entropies take probabilities by default (``from_logits=False``), as Keras's do, so that
``Dense(1, activation="sigmoid")`` + ``"binary_crossentropy"`` works unchanged; probabilities are
clipped to ``[ε, 1 - ε]`` with Keras's ``ε = 1e-7``.
"""

from __future__ import annotations

from typing import Any, Callable, Union

import torch
import torch.nn.functional as F

from ..errors import ConfigError, ShapeError, format_shape, unknown_name

EPSILON = 1e-7


def _match(y_pred: torch.Tensor, y_true: torch.Tensor, name: str) -> torch.Tensor:
    """Bring ``y_true`` to ``y_pred``'s shape where Keras would ((B,) vs (B, 1))."""
    if y_true.shape == y_pred.shape:
        return y_true
    if y_true.dim() == y_pred.dim() - 1 and y_pred.shape[-1] == 1 and y_true.shape == y_pred.shape[:-1]:
        return y_true.unsqueeze(-1)
    if y_true.dim() == y_pred.dim() + 1 and y_true.shape[-1] == 1 and y_true.shape[:-1] == y_pred.shape:
        return y_true.squeeze(-1)
    raise ShapeError(
        f"{name} expected targets of shape {format_shape(y_pred.shape)} (the predictions), got {format_shape(y_true.shape)}"
    )


def _last_axis_mean(v: torch.Tensor) -> torch.Tensor:
    return v.mean(-1) if v.dim() >= 2 else v


class Loss:
    """Base class: ``loss(y_pred, y_true) -> scalar``; ``get_config()`` for saving.

    ``values(y_pred, y_true)``: the loss of each sample (and step), the feature axis reduced as Keras
    reduces it; ``weighted(y_pred, y_true, w)``: ``Σ values · w / n`` over the ``n`` values (Keras's
    ``sum_over_batch_size``), for ``fit(sample_weight=..., class_weight=...)``.
    """

    name = "loss"

    def __call__(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def values(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        raise ConfigError(
            f"the loss {self.name} gives one number per batch; sample_weight and class_weight need per-sample "
            "losses: use one of recurra's losses (or subclass recurra.losses.Loss with values())"
        )

    def weighted(self, y_pred: torch.Tensor, y_true: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        v = self.values(y_pred, y_true)  # (B, ...)
        w = w.to(v.dtype)
        if w.dim() > v.dim() or tuple(w.shape) != tuple(v.shape[: w.dim()]):
            found = f"sample weights of shape {format_shape(w.shape)}"
            raise ShapeError(f"{found} do not fit losses of shape {format_shape(v.shape)}")
        w = w.reshape(w.shape + (1,) * (v.dim() - w.dim()))
        return (v * w).sum() / max(v.numel(), 1)

    def get_config(self) -> dict[str, Any]:
        return {}

    def serialize(self) -> Union[str, dict]:
        config = self.get_config()
        return self.name if not config else {"class_name": self.name, "config": config}


class MeanSquaredError(Loss):
    name = "mse"

    def __call__(self, y_pred, y_true):
        return F.mse_loss(y_pred, _match(y_pred, y_true, self.name).to(y_pred.dtype))

    def values(self, y_pred, y_true):
        return _last_axis_mean((y_pred - _match(y_pred, y_true, self.name).to(y_pred.dtype)).square())


class MeanAbsoluteError(Loss):
    name = "mae"

    def __call__(self, y_pred, y_true):
        return F.l1_loss(y_pred, _match(y_pred, y_true, self.name).to(y_pred.dtype))

    def values(self, y_pred, y_true):
        return _last_axis_mean((y_pred - _match(y_pred, y_true, self.name).to(y_pred.dtype)).abs())


class Huber(Loss):
    name = "huber"

    def __init__(self, delta: float = 1.0):
        self.delta = float(delta)

    def __call__(self, y_pred, y_true):
        return F.huber_loss(y_pred, _match(y_pred, y_true, self.name).to(y_pred.dtype), delta=self.delta)

    def values(self, y_pred, y_true):
        y = _match(y_pred, y_true, self.name).to(y_pred.dtype)
        return _last_axis_mean(F.huber_loss(y_pred, y, delta=self.delta, reduction="none"))

    def get_config(self):
        return {"delta": self.delta}


class BinaryCrossentropy(Loss):
    """``-mean(y log p + (1 - y) log(1 - p))``; ``p = σ(y_pred)`` when ``from_logits``."""

    name = "binary_crossentropy"

    def __init__(self, from_logits: bool = False):
        self.from_logits = bool(from_logits)

    def __call__(self, y_pred, y_true):
        y = _match(y_pred, y_true, self.name).to(y_pred.dtype)
        if self.from_logits:
            return F.binary_cross_entropy_with_logits(y_pred, y)
        p = y_pred.clamp(EPSILON, 1.0 - EPSILON)
        return -(y * torch.log(p) + (1 - y) * torch.log1p(-p)).mean()

    def values(self, y_pred, y_true):
        y = _match(y_pred, y_true, self.name).to(y_pred.dtype)
        if self.from_logits:
            return _last_axis_mean(F.binary_cross_entropy_with_logits(y_pred, y, reduction="none"))
        p = y_pred.clamp(EPSILON, 1.0 - EPSILON)
        return _last_axis_mean(-(y * torch.log(p) + (1 - y) * torch.log1p(-p)))

    def get_config(self):
        return {"from_logits": self.from_logits} if self.from_logits else {}


class CategoricalCrossentropy(Loss):
    """``-mean Σ_k y_k log p_k`` over one-hot (or soft) targets ``(..., K)``."""

    name = "categorical_crossentropy"

    def __init__(self, from_logits: bool = False):
        self.from_logits = bool(from_logits)

    def __call__(self, y_pred, y_true):
        return self.values(y_pred, y_true).mean()

    def values(self, y_pred, y_true):
        if y_true.shape != y_pred.shape:
            raise ShapeError(
                f"{self.name} expected one-hot targets of shape {format_shape(y_pred.shape)}, got {format_shape(y_true.shape)} "
                "(integer class ids need sparse_categorical_crossentropy)"
            )
        y = y_true.to(y_pred.dtype)
        if self.from_logits:
            log_p = torch.log_softmax(y_pred, -1)
        else:
            p = y_pred / y_pred.sum(-1, keepdim=True)
            log_p = torch.log(p.clamp(EPSILON, 1.0 - EPSILON))
        return -(y * log_p).sum(-1)

    def get_config(self):
        return {"from_logits": self.from_logits} if self.from_logits else {}


class SparseCategoricalCrossentropy(Loss):
    """``-mean log p_{y}`` with integer class ids ``y (...)`` and probabilities ``(..., K)``."""

    name = "sparse_categorical_crossentropy"

    def __init__(self, from_logits: bool = False, ignore_index: int | None = None):
        self.from_logits = bool(from_logits)
        self.ignore_index = ignore_index

    def __call__(self, y_pred, y_true):
        ids, log_p = self._ids_and_log_p(y_pred, y_true)
        K = y_pred.shape[-1]
        kw = {} if self.ignore_index is None else {"ignore_index": self.ignore_index}
        return F.nll_loss(log_p.reshape(-1, K), ids.reshape(-1), **kw)

    def values(self, y_pred, y_true):
        ids, log_p = self._ids_and_log_p(y_pred, y_true)
        K = y_pred.shape[-1]
        kw = {} if self.ignore_index is None else {"ignore_index": self.ignore_index}
        return F.nll_loss(log_p.reshape(-1, K), ids.reshape(-1), reduction="none", **kw).reshape(ids.shape)

    def _ids_and_log_p(self, y_pred, y_true):
        ids = y_true
        if ids.dim() == y_pred.dim() and ids.shape[-1] == 1:
            ids = ids.squeeze(-1)
        if ids.shape != y_pred.shape[:-1]:
            raise ShapeError(
                f"{self.name} expected integer targets of shape {format_shape(y_pred.shape[:-1])}, "
                f"got {format_shape(y_true.shape)}"
            )
        if ids.is_floating_point():
            ids = ids.round()
        ids = ids.long()
        K = y_pred.shape[-1]
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= K) and self.ignore_index is None:
            raise ShapeError(
                f"{self.name} expected class ids in [0, {K - 1}], got values from {int(ids.min())} to {int(ids.max())}"
            )
        log_p = torch.log_softmax(y_pred, -1) if self.from_logits else torch.log(y_pred.clamp(EPSILON, 1.0 - EPSILON))
        return ids, log_p

    def get_config(self):
        config: dict[str, Any] = {}
        if self.from_logits:
            config["from_logits"] = True
        if self.ignore_index is not None:
            config["ignore_index"] = self.ignore_index
        return config


LOSSES: dict[str, type[Loss]] = {
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "mean_absolute_error": MeanAbsoluteError,
    "huber": Huber,
    "huber_loss": Huber,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}

LossLike = Union[str, dict, Loss, Callable[[torch.Tensor, torch.Tensor], torch.Tensor], torch.nn.Module]


class TorchLoss(Loss):
    """Wraps a torch loss module or function called as ``fn(y_pred, y_true)``."""

    def __init__(self, fn):
        self.fn = fn
        self.name = getattr(fn, "__name__", type(fn).__name__)

    def __call__(self, y_pred, y_true):
        return self.fn(y_pred, y_true)

    def serialize(self):
        return None  # not serialisable: compile again after loading


def get(spec: LossLike) -> Loss:
    """Resolve a loss name, a ``{"class_name", "config"}`` dict, a Loss, or a torch loss/callable."""
    if isinstance(spec, Loss):
        return spec
    if isinstance(spec, str):
        key = spec.lower()
        if key not in LOSSES:
            raise unknown_name("loss", spec, list(LOSSES))
        return LOSSES[key]()
    if isinstance(spec, dict) and "class_name" in spec:
        key = str(spec["class_name"]).lower()
        if key not in LOSSES:
            raise unknown_name("loss", spec["class_name"], list(LOSSES))
        return LOSSES[key](**spec.get("config", {}))
    if callable(spec):
        return TorchLoss(spec)
    raise TypeError(f"expected a loss name, a Loss, or a callable(y_pred, y_true), got {type(spec).__name__}")

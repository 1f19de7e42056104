"""What training adds around a model's layers: the sum of their penalties (regularizers) and the
projection of their weights onto their constraints after each step."""

from __future__ import annotations

import torch
from torch import nn

from .base import Layer


def _layers(module: nn.Module) -> list[Layer]:
    return [m for m in module.modules() if isinstance(m, Layer)]


def clear_activity(module: nn.Module) -> None:
    """Forget the activity penalties of earlier calls (before a training step's forward pass)."""
    for layer in _layers(module):
        if layer._activity_losses:
            layer._activity_losses = []


def model_losses(module: nn.Module) -> list[torch.Tensor]:
    """Every layer's penalties (Keras's ``model.losses``)."""
    return [term for layer in _layers(module) for term in layer.losses]


def total_penalty(module: nn.Module) -> torch.Tensor | None:
    """The sum of ``model_losses``, or ``None`` when no layer has a penalty."""
    terms = model_losses(module)
    return torch.stack([t.reshape(()) for t in terms]).sum() if terms else None


def has_constraints(module: nn.Module) -> bool:
    return any(layer.has_constraints() for layer in _layers(module))


def apply_constraints(module: nn.Module) -> None:
    for layer in _layers(module):
        if layer.has_constraints():
            layer.apply_constraints()


__all__ = ["clear_activity", "model_losses", "total_penalty", "has_constraints", "apply_constraints"]

"""Activation functions by Keras name.

``get("tanh")`` returns a callable tensor -> tensor; ``None`` and ``"linear"`` give the identity.
"""

from __future__ import annotations

from typing import Callable, Union

import torch
import torch.nn.functional as F

from .errors import unknown_name

Activation = Callable[[torch.Tensor], torch.Tensor]


def linear(x: torch.Tensor) -> torch.Tensor:
    return x


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Keras 3 hard sigmoid: ``relu6(x + 3) / 6``."""
    return F.hardsigmoid(x)


def softmax(x: torch.Tensor) -> torch.Tensor:
    return torch.softmax(x, dim=-1)


def log_softmax(x: torch.Tensor) -> torch.Tensor:
    return torch.log_softmax(x, dim=-1)


def leaky_relu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2)


ACTIVATIONS: dict[str, Activation] = {
    "linear": linear,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "hard_sigmoid": hard_sigmoid,
    "relu": torch.relu,
    "relu6": F.relu6,
    "elu": F.elu,
    "selu": F.selu,
    "gelu": F.gelu,
    "silu": F.silu,
    "swish": F.silu,
    "softplus": F.softplus,
    "softsign": F.softsign,
    "exponential": torch.exp,
    "leaky_relu": leaky_relu,
    "softmax": softmax,
    "log_softmax": log_softmax,
}


def get(name: Union[str, None]) -> Activation:
    """Return the activation called ``name`` (``None`` means linear)."""
    if name is None:
        return linear
    if not isinstance(name, str):
        raise TypeError(f"expected an activation name (str) or None, got {type(name).__name__}")
    key = name.lower()
    if key not in ACTIVATIONS:
        raise unknown_name("activation", name, list(ACTIVATIONS))
    return ACTIVATIONS[key]


def canonical(name: Union[str, None]) -> str:
    """The stored (config) form of an activation name; validates it."""
    get(name)
    return "linear" if name is None else name.lower()

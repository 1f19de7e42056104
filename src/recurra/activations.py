"""Activation functions by Keras name.

``get("tanh")`` returns a callable tensor -> tensor; ``None`` and ``"linear"`` give the identity.
``ActivationsByName`` lets a module hold its activations as names (what it pickles) and their
functions (resolved once, what its steps call).
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar, Union

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


class ActivationsByName:
    """A mixin for ``torch.nn.Module`` classes that call activations kept by name.

    ``activation_attributes`` maps each attribute holding a function (``"act"``) to the attribute
    holding its name (``"activation"``). ``resolve_activations()`` (called by the constructor once the
    names are set) looks each name up once and stores its function, so a step calls the function with
    no lookup. The functions are left out of the pickled state and resolved again when it is read
    back: a module saved whole with ``torch.save`` holds names, not functions, which torch's
    weights-only ``torch.load`` would refuse (``torch.tanh`` pickles as ``builtins.getattr``).
    """

    activation_attributes: ClassVar[dict[str, str]] = {}

    def resolve_activation(self, name: str) -> Activation:
        """The function of a stored activation name (a class with names of its own overrides this)."""
        return get(name)

    def resolve_activations(self) -> None:
        """Set each function attribute from its name attribute."""
        for function_attribute, name_attribute in self.activation_attributes.items():
            setattr(self, function_attribute, self.resolve_activation(getattr(self, name_attribute)))

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()  # type: ignore[misc]
        if self.activation_attributes:
            state = {k: v for k, v in state.items() if k not in self.activation_attributes}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)  # type: ignore[misc]
        self.resolve_activations()

"""Optimisers by Keras name, with Keras 3's default hyper-parameters.

``get("adam", params)`` builds ``torch.optim.Adam(params, lr=1e-3, eps=1e-7)``. A spec can also be
an ``Optimizer`` description (``Adam(learning_rate=1e-2)``), a ready ``torch.optim.Optimizer``, or a
callable ``params -> torch.optim.Optimizer``.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Union

import torch

from ..errors import ConfigError, unknown_name

# name -> (torch class, Keras defaults in torch's argument names)
_DEFAULTS: dict[str, tuple[type[torch.optim.Optimizer], dict[str, Any]]] = {
    "adam": (torch.optim.Adam, {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-7}),
    "adamw": (torch.optim.AdamW, {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-7, "weight_decay": 0.004}),
    "sgd": (torch.optim.SGD, {"lr": 1e-2, "momentum": 0.0}),
    "rmsprop": (torch.optim.RMSprop, {"lr": 1e-3, "alpha": 0.9, "eps": 1e-7, "momentum": 0.0}),
    "adagrad": (torch.optim.Adagrad, {"lr": 1e-3, "initial_accumulator_value": 0.1, "eps": 1e-7}),
    "adadelta": (torch.optim.Adadelta, {"lr": 1e-3, "rho": 0.95, "eps": 1e-7}),
    "adamax": (torch.optim.Adamax, {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-7}),
    "nadam": (torch.optim.NAdam, {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-7}),
}

# Keras argument names -> torch's
_RENAME = {"learning_rate": "lr", "epsilon": "eps", "rho": "alpha"}


class Optimizer:
    """A serialisable description of an optimiser: ``Optimizer("adam", learning_rate=1e-2)``."""

    def __init__(self, name: str, **kwargs: Any):
        key = name.lower()
        if key not in _DEFAULTS:
            raise unknown_name("optimizer", name, list(_DEFAULTS))
        self.name, self.kwargs = key, dict(kwargs)
        lr = kwargs.get("learning_rate", kwargs.get("lr"))
        if lr is not None and not (isinstance(lr, (int, float)) and lr > 0):
            raise ConfigError(f"expected learning_rate > 0, got {lr!r}")

    def torch_kwargs(self) -> dict[str, Any]:
        cls, defaults = _DEFAULTS[self.name]
        out = dict(defaults)
        for k, v in self.kwargs.items():
            key = k
            if k == "rho" and self.name == "adadelta":
                key = "rho"
            else:
                key = _RENAME.get(k, k)
            if k in ("beta_1", "beta_2"):
                b = list(out.get("betas", (0.9, 0.999)))
                b[0 if k == "beta_1" else 1] = v
                out["betas"] = tuple(b)
                continue
            out[key] = v
        return out

    def build(self, params: Iterable[torch.nn.Parameter]) -> torch.optim.Optimizer:
        cls, _ = _DEFAULTS[self.name]
        try:
            return cls(params, **self.torch_kwargs())
        except TypeError as e:
            raise ConfigError(f"optimizer {self.name!r}: {e}") from None

    def serialize(self) -> Union[str, dict]:
        return self.name if not self.kwargs else {"class_name": self.name, "config": self.kwargs}


def _named(name: str):
    def make(**kwargs: Any) -> Optimizer:
        return Optimizer(name, **kwargs)

    make.__name__ = make.__qualname__ = name.capitalize()
    make.__doc__ = f"``{name}`` with Keras argument names (learning_rate, ...) and defaults."
    return make


Adam, AdamW, SGD, RMSprop, Adagrad, Adadelta, Adamax, Nadam = (
    _named(n) for n in ("adam", "adamw", "sgd", "rmsprop", "adagrad", "adadelta", "adamax", "nadam")
)

OptimizerLike = Union[str, dict, Optimizer, torch.optim.Optimizer, Callable[..., torch.optim.Optimizer]]


def resolve(spec: OptimizerLike) -> Union[Optimizer, torch.optim.Optimizer, Callable]:
    """Check a spec at compile time (unknown names fail here, before any training)."""
    if isinstance(spec, str):
        return Optimizer(spec)
    if isinstance(spec, dict) and "class_name" in spec:
        return Optimizer(spec["class_name"], **spec.get("config", {}))
    if isinstance(spec, (Optimizer, torch.optim.Optimizer)) or callable(spec):
        return spec
    raise TypeError(
        f"expected an optimizer name, an Optimizer, a torch.optim.Optimizer or a callable(params), got {type(spec).__name__}"
    )


def build(spec: OptimizerLike, params: list[torch.nn.Parameter]) -> torch.optim.Optimizer:
    """A torch optimiser over ``params`` from any accepted spec."""
    spec = resolve(spec)
    if isinstance(spec, torch.optim.Optimizer):
        return spec
    if isinstance(spec, Optimizer):
        return spec.build(params)
    opt = spec(params)
    if not isinstance(opt, torch.optim.Optimizer):
        raise TypeError(f"expected the optimizer factory to return a torch.optim.Optimizer, got {type(opt).__name__}")
    return opt


def serialize(spec: Any) -> Union[str, dict, None]:
    return spec.serialize() if isinstance(spec, Optimizer) else None

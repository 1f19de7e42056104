"""``recurra.saving``: Keras's ``keras.saving`` — loading models, and registering your own classes so that a
saved model that uses them loads again (by name: loading never imports or runs code a file names)."""

from __future__ import annotations

from typing import Any, Callable

from . import registry
from .io import load_model
from .layers.base import Layer
from .model import Model


def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Callable[[type], type]:
    """A class decorator: make a layer (or a model) class loadable by name from saved configurations.

    The class needs ``get_config()`` and a constructor taking what it returns (``from_config``). recurra
    registers it under its class name (``name`` if given); ``package`` is accepted for Keras code.
    """

    def register(cls: type) -> type:
        key = name or cls.__name__
        if issubclass(cls, Model):
            registry.MODELS[key] = cls
        elif issubclass(cls, Layer):
            registry.LAYERS[key] = cls
        else:
            raise TypeError(f"register_keras_serializable expected a recurra Layer or Model subclass, got {cls.__name__}")
        return cls

    return register


def get_registered_object(name: str) -> Any:
    """The layer or model class registered under ``name`` (``None`` when there is none)."""
    return registry.LAYERS.get(name) or registry.MODELS.get(name)


__all__ = ["load_model", "register_keras_serializable", "get_registered_object"]

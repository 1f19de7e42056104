"""Classes and loaders by name: what a saved file may ask recurra to build.

The tables live at the bottom of the package and import nothing from it, so that ``recurra.io`` can
rebuild a model from its configuration without importing the modules that define the classes (they
register themselves when imported, and ``import recurra`` imports them all).

- ``LAYERS``: layer classes by class name (``"LSTM"``), as written in a model's ``config.json``;
- ``MODELS``: model classes by class name (``"Sequential"``, a user's ``@register_model`` class);
- ``FORMATS``: directory formats (``"recurra.forecaster"``) -> the function that opens one, used by
  ``recurra.load(path)``.

Loading a file only ever looks classes up here: it never imports a module or runs code named by the file.
"""

from __future__ import annotations

import os
from typing import Any, Callable

from .errors import ConfigError, unknown_name

LAYERS: dict[str, type] = {}
MODELS: dict[str, type] = {}
FORMATS: dict[str, Callable[[str | os.PathLike], Any]] = {}


def register_layer(cls: type) -> type:
    """Make a layer class loadable by name from a saved configuration (a class decorator)."""
    LAYERS[cls.__name__] = cls
    return cls


def register_model(cls: type) -> type:
    """Make a model class loadable by name (it must implement ``get_config`` / ``from_config``)."""
    MODELS[cls.__name__] = cls
    return cls


def register_format(fmt: str, loader: Callable[[str | os.PathLike], Any]) -> None:
    """Let ``recurra.load`` open directories whose ``config.json`` says ``"format": fmt``."""
    FORMATS[fmt] = loader


def object_from_spec(kind: str, spec: Any, classes: dict[str, type], base: type) -> Any:
    """Keras's ``get`` for a family of small objects (regularizers, constraints): ``None`` or an instance of
    ``base`` as it is, a name (any case) or a ``{"class_name", "config"}`` dict built from ``classes``; a
    plain function is refused (it could not be saved: loading a file never runs code)."""
    if spec is None or isinstance(spec, base):
        return spec
    name, config = (spec, {}) if isinstance(spec, str) else (spec.get("class_name"), spec.get("config", {})) \
        if isinstance(spec, dict) and "class_name" in spec else (None, None)  # fmt: skip
    if name is not None:
        key = name if name in classes else str(name).lower()
        if key not in classes:
            raise unknown_name(kind, name, [k for k in classes if k.islower()])
        return classes[key](**config)
    if callable(spec):
        raise ConfigError(
            f"a {kind} given as a plain function cannot be saved (loading a file never runs code); subclass "
            f"recurra.{kind}s.{base.__name__} and register it with recurra.saving.register_keras_serializable"
        )
    expected = f"a {kind} name, a {{'class_name', 'config'}} dict or a {base.__name__}"
    raise ConfigError(f"expected {expected}, got {type(spec).__name__}")


__all__ = ["LAYERS", "MODELS", "FORMATS", "register_layer", "register_model", "register_format", "object_from_spec"]

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


__all__ = ["LAYERS", "MODELS", "FORMATS", "register_layer", "register_model", "register_format"]

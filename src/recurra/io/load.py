"""``recurra.load(path)``: open any saved recurra directory by the format its ``config.json`` records."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .. import registry
from ..errors import ModelFileError
from .directory import CONFIG_FILE, open_model_directory
from .keras_file import is_single_file, read_single_file


def load(path: str | os.PathLike) -> Any:
    """The model or estimator saved in the directory ``path``: a ``Sequential`` (or registered model),
    ``Forecaster``, ``LanguageModel``, ``SequenceClassifier`` or ``EchoStateNetwork``, whichever it holds.

    The directory is checked against its manifest first; an unknown format is refused by name.
    """
    if is_single_file(path):
        return read_single_file(path, load)
    document = open_model_directory(path).document
    fmt = document.get("format") if isinstance(document, dict) else None
    if fmt not in registry.FORMATS:
        known = ", ".join(sorted(registry.FORMATS))
        raise ModelFileError(f"{Path(path) / CONFIG_FILE} has format {fmt!r}; recurra.load opens {known}")
    return registry.FORMATS[fmt](path)


__all__ = ["load"]

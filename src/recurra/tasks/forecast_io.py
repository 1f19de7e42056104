"""Deprecated: ``recurra.forecast.files`` holds the file format now, ``recurra.forecast.load_forecaster``
reads a saved forecaster and ``Forecaster.save`` writes one."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

warnings.warn(
    "recurra.tasks.forecast_io is deprecated; import from recurra.forecast.files (load_forecaster: recurra.forecast)",
    DeprecationWarning,
    stacklevel=2,
)

from ..forecast.files import FORMAT, FORMAT_VERSION  # noqa: E402
from ..forecast.forecaster import load_forecaster  # noqa: E402


def save_forecaster(self: Any, path: str | os.PathLike) -> Path:
    """Deprecated: ``forecaster.save(path)``."""
    return self.save(path)


__all__ = ["FORMAT", "FORMAT_VERSION", "save_forecaster", "load_forecaster"]

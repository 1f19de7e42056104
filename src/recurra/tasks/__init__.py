"""Deprecated: the forecasting estimators moved to ``recurra.forecast`` (``recurra.tasks`` named two
different things; the memory tasks stay in ``recurra.data.tasks``)."""

from __future__ import annotations

import warnings
from typing import Any

from .errors import RecurraWarning

_MOVED = {"Forecaster", "BacktestResult", "load_forecaster"}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        warnings.warn(f"recurra.tasks.{name} is deprecated; use recurra.forecast.{name}", RecurraWarning, stacklevel=2)
        from . import forecast

        return getattr(forecast, name)
    raise AttributeError(f"module 'recurra.tasks' has no attribute {name!r}")

"""Deprecated: ``recurra.forecast.backtest`` holds these names now; ``score`` is ``Forecaster._score``
(reached through ``Forecaster.evaluate`` and ``Forecaster.backtest``)."""

from __future__ import annotations

import warnings
from typing import Any

warnings.warn("recurra.tasks.backtest is deprecated; import from recurra.forecast.backtest", DeprecationWarning, stacklevel=2)

from ..forecast.backtest import BacktestResult  # noqa: E402


def score(self: Any, panel: Any, origins: dict[Any, list[int]], fold_models: list | None = None) -> BacktestResult:
    """Deprecated: what ``Forecaster.evaluate`` and ``Forecaster.backtest`` run (``self._score``)."""
    return self._score(panel, origins, fold_models)


__all__ = ["BacktestResult", "score"]

"""Deprecated: ``recurra.forecast.forecaster`` holds these names now."""

import warnings

warnings.warn("recurra.tasks.forecaster is deprecated; import from recurra.forecast.forecaster", DeprecationWarning, stacklevel=2)

from ..forecast.forecaster import ALL_CELLS, STRATEGIES, TRANSFORMS, BacktestResult, Forecaster  # noqa: E402

__all__ = ["Forecaster", "BacktestResult", "ALL_CELLS", "STRATEGIES", "TRANSFORMS"]

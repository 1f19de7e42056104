"""Deprecated: ``recurra.forecast.metrics`` holds these names now."""

import warnings

warnings.warn(
    "recurra.tasks.forecast_metrics is deprecated; import from recurra.forecast.metrics", DeprecationWarning, stacklevel=2
)

from ..forecast.metrics import coverage, mae, mase_scale, naive, rmse, seasonal_naive, smape  # noqa: E402

__all__ = ["mae", "rmse", "smape", "mase_scale", "coverage", "naive", "seasonal_naive"]

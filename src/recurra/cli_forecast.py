"""Deprecated: ``recurra forecast`` lives in ``recurra.cli.forecast`` now."""

import warnings

warnings.warn("recurra.cli_forecast is deprecated; import from recurra.cli.forecast", DeprecationWarning, stacklevel=2)

from .cli.forecast import backtest, forecast_app, predict, train  # noqa: E402

__all__ = ["forecast_app", "train", "predict", "backtest"]

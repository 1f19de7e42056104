"""Application patterns as estimators with fit / predict / save: ``Forecaster`` (time series)."""

from .backtest import BacktestResult
from .forecast_io import load_forecaster
from .forecaster import Forecaster

__all__ = ["Forecaster", "BacktestResult", "load_forecaster"]

"""Time-series forecasting: ``Forecaster`` (a table in, forecasts with intervals out), its networks,
backtests next to the naive baselines, the metrics and the plots."""

from .backtest import BacktestResult
from .forecaster import Forecaster, load_forecaster

__all__ = ["Forecaster", "BacktestResult", "load_forecaster"]

"""Application patterns as estimators with fit / predict / save: ``Forecaster`` (time series)."""

from .forecaster import BacktestResult, Forecaster, load_forecaster

__all__ = ["Forecaster", "BacktestResult", "load_forecaster"]

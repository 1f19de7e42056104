"""Rolling-origin evaluation of a ``Forecaster`` next to the naive baselines (``Forecaster.backtest``,
``Forecaster.evaluate``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import metrics as fm
from .plots import plot_forecast


@dataclass
class BacktestResult:
    """What ``Forecaster.backtest`` / ``evaluate`` return.

    ``metrics``: one row per forecaster (the model, ``naive``, ``seasonal naive``), the columns
    ``MAE``, ``RMSE``, ``sMAPE``, ``MASE`` and ``coverage`` (of the model's intervals; NaN for point
    forecasts and the baselines), over every point of every fold. ``forecasts``: one row per point
    (``fold``, ``origin`` — the last time seen —, the time, ``actual``, ``forecast``, ``lower``,
    ``upper``, ``naive``, ``seasonal_naive`` and the MASE ``scale``). ``history``: the series as given
    (for plots). ``notes``: metrics that are undefined or uninformative on this data, and why (also
    issued as warnings): MASE of a series whose history does not vary, sMAPE of all-zero actuals.
    """

    metrics: pd.DataFrame
    forecasts: pd.DataFrame
    history: pd.DataFrame
    horizon: int
    folds: int
    season: int
    level: float
    refit: bool
    time_col: str
    notes: list[str] = field(default_factory=list)
    target_name: str = "value"  # the target column (the plot's y axis)

    def plot(self, path: str | os.PathLike = "backtest.png", *, last: int | None = None, title: str | None = None) -> Path:
        """History, each fold's forecast and interval, to a PNG (``last``: history steps shown before the first fold)."""
        title = title or f"backtest: {self.folds} origin(s), {self.horizon} steps each"
        ylabel = ", ".join(self.history["target"].unique()) if "target" in self.history else self.target_name
        return plot_forecast(self.history, self.forecasts, path, time_col=self.time_col, last=last, title=title,
                             ylabel=ylabel, level=self.level)  # fmt: skip


def baselines(history: np.ndarray, horizon: int, season: int) -> dict[str, np.ndarray]:
    """The naive and seasonal-naive forecasts ``(H, K)`` from ``history (T, K)``, and the MASE scale."""
    K = history.shape[1]
    return {
        "naive": np.stack([fm.naive(history[:, k], horizon) for k in range(K)], 1),
        "seasonal_naive": np.stack([fm.seasonal_naive(history[:, k], horizon, season) for k in range(K)], 1),
        "scale": np.stack([np.full(horizon, fm.mase_scale(history[:, k], season)) for k in range(K)], 1),
    }


def metric_notes(forecasts: pd.DataFrame, series_col: str | None, season: int) -> list[str]:
    """Why a metric of ``metrics_table`` is undefined (NaN) or says nothing on these forecasts."""
    notes = []

    def which(rows: pd.Series) -> str:
        if series_col is None:
            return "the series"
        names = sorted(map(str, forecasts.loc[rows, series_col].unique()))
        return "the series " + ", ".join(repr(n) for n in names[:5]) + (" ..." if len(names) > 5 else "")

    flat = ~(forecasts["scale"] > 0)
    if flat.any():
        notes.append(
            f"MASE is undefined (NaN): before the forecast origin {which(flat)} repeats exactly every {season} step(s) "
            "(a constant series does too), so the in-sample seasonal naive error MASE divides by is 0; compare MAE instead"
        )
    zero = forecasts["actual"] == 0
    if zero.all():
        notes.append(
            f"sMAPE says nothing here: every actual value of {which(zero)} is 0, so any forecast other than 0 scores "
            "200% and 0 scores 0%; compare MAE instead"
        )
    return notes


def metrics_table(forecasts: pd.DataFrame, label: str) -> pd.DataFrame:
    """MAE, RMSE, sMAPE, MASE and coverage of the model (``label``) and the two baselines, over every
    row of ``forecasts`` (columns ``actual``, ``forecast``, ``naive``, ``seasonal_naive``, ``scale`` and,
    for interval forecasts, ``lower`` / ``upper``)."""
    y = forecasts["actual"].to_numpy()
    table = {}
    for name, col in ((label, "forecast"), ("naive", "naive"), ("seasonal naive", "seasonal_naive")):
        f = forecasts[col].to_numpy()
        table[name] = {
            "MAE": fm.mae(y, f),
            "RMSE": fm.rmse(y, f),
            "sMAPE": fm.smape(y, f),
            "MASE": _mase(y, f, forecasts["scale"].to_numpy()),
            "coverage": fm.coverage(y, forecasts["lower"], forecasts["upper"])
            if col == "forecast" and "lower" in forecasts
            else np.nan,
        }
    return pd.DataFrame(table).T


def _mase(y: np.ndarray, f: np.ndarray, scale: np.ndarray) -> float:
    """Mean of ``|y - f| / scale``; NaN when a history has no seasonal variation to scale by (scale 0)."""
    if not (scale > 0).all():
        return float("nan")
    return float(np.mean(np.abs(y - f) / scale))


__all__ = ["BacktestResult", "baselines", "metrics_table"]

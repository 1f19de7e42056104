"""Rolling-origin evaluation of a ``Forecaster`` next to the naive baselines (``Forecaster.backtest``,
``Forecaster.evaluate``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..data.frames import Panel
from ..errors import SeriesError
from . import forecast_metrics as fm

if TYPE_CHECKING:
    from .forecaster import Forecaster


@dataclass
class BacktestResult:
    """What ``Forecaster.backtest`` / ``evaluate`` return.

    ``metrics``: one row per forecaster (the model, ``naive``, ``seasonal naive``), the columns
    ``MAE``, ``RMSE``, ``sMAPE``, ``MASE`` and ``coverage`` (of the model's intervals; NaN for point
    forecasts and the baselines), over every point of every fold. ``forecasts``: one row per point
    (``fold``, ``origin`` — the last time seen —, the time, ``actual``, ``forecast``, ``lower``,
    ``upper``, ``naive``, ``seasonal_naive`` and the MASE ``scale``). ``history``: the series as given
    (for plots).
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

    def plot(self, path: str | os.PathLike = "backtest.png", *, last: int | None = None, title: str | None = None) -> Path:
        """History, each fold's forecast and interval, to a PNG (``last``: history steps shown before the first fold)."""
        from .plots import plot_forecast

        title = title or f"backtest: {self.folds} origin(s), {self.horizon} steps each"
        return plot_forecast(self.history, self.forecasts, path, time_col=self.time_col, last=last, title=title)


def score(
    self: Forecaster, panel: Panel, origins: dict[Any, list[int]], fold_models: list[Forecaster] | None = None
) -> BacktestResult:
    """Forecast from every origin (an index into each series: the first step not seen) with ``self`` (or
    ``fold_models[fold]``), next to the naive and seasonal-naive forecasts from the same history, and score
    them all against what happened."""
    L, H, K = self.lookback, self.horizon, self.n_targets
    rows, extras = [], []
    n_folds = max(len(v) for v in origins.values())
    for fold in range(n_folds):
        model = self if fold_models is None else fold_models[fold]
        items, meta = [], []
        for sid in panel.ids:
            if fold >= len(origins[sid]):
                continue
            o = origins[sid][fold]
            if o < L:
                raise SeriesError(f"the origin {panel.times[sid][o]} leaves {o} steps of history, fewer than lookback = {L}")
            if not model.scaler.has(sid):
                model._fit_scaler(panel.select(sid).head({sid: o}))
            feats = model._features(sid, panel.times[sid][o - L : o + H], panel.values[sid][o - L : o + H])
            items.append((sid, feats[:L], feats[L:, feats.shape[1] - model.n_known :]))
            meta.append((sid, o))
        for (sid, o), r in zip(meta, model._origins(items)):
            actual = panel.values[sid][o : o + H, :K]  # (H, K)
            history = panel.values[sid][:o, :K]
            extra = {
                "fold": fold,
                "origin": panel.times[sid][o - 1],
                "actual": actual,
                "naive": np.stack([fm.naive(history[:, k], H) for k in range(K)], 1),
                "seasonal_naive": np.stack([fm.seasonal_naive(history[:, k], H, self.season_) for k in range(K)], 1),
                "scale": np.stack([np.full(H, fm.mase_scale(history[:, k], self.season_)) for k in range(K)], 1),
            }
            rows.append((sid, panel.times[sid][o : o + H], r))
            extras.append(extra)
    forecasts = self._frame(rows, extras)
    y = forecasts["actual"].to_numpy()
    table = {}
    for name, col in ((self.label, "forecast"), ("naive", "naive"), ("seasonal naive", "seasonal_naive")):
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
    metrics = pd.DataFrame(table).T
    return BacktestResult(
        metrics=metrics,
        forecasts=forecasts,
        history=self._history_frame(panel),
        horizon=H,
        folds=n_folds,
        season=self.season_,
        level=self.level,
        refit=fold_models is not None,
        time_col=self.schema["time_col"],
    )


def _mase(y: np.ndarray, f: np.ndarray, scale: np.ndarray) -> float:
    """Mean of ``|y - f| / scale``; NaN when a history has no seasonal variation to scale by (scale 0)."""
    if not (scale > 0).all():
        return float("nan")
    return float(np.mean(np.abs(y - f) / scale))


__all__ = ["BacktestResult", "score"]

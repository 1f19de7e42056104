"""Forecast accuracy and the naive baselines a forecast must beat.

Over the ``n`` forecast points of one series, ``e = y - ŷ``:

- ``MAE = mean |e|``; ``RMSE = sqrt(mean e²)``;
- ``sMAPE = mean 200 |e| / (|y| + |ŷ|)`` (percent; a point where both are 0 counts 0);
- ``MASE = mean |e| / mean_t |h_t - h_{t-m}|``: scaled by the in-sample error of the seasonal-naive
  forecast over the history ``h`` before the forecast origin (season ``m``; ``m = 1``: the naive one);
- ``coverage``: the share of the points inside their interval ``[lower, upper]``.

>>> y, f = np.array([1.0, 2.0]), np.array([1.0, 3.0])
>>> round(mae(y, f), 3), round(rmse(y, f), 3), round(smape(y, f), 3)
(0.5, 0.707, 20.0)
>>> naive(np.array([1.0, 2.0, 3.0]), 2).tolist(), seasonal_naive(np.array([1.0, 2.0, 3.0]), 3, 2).tolist()
([3.0, 3.0], [2.0, 3.0, 2.0])
"""

from __future__ import annotations

import numpy as np


def mae(y: np.ndarray, f: np.ndarray) -> float:
    return float(np.mean(np.abs(y - f)))


def rmse(y: np.ndarray, f: np.ndarray) -> float:
    return float(np.sqrt(np.mean((y - f) ** 2)))


def smape(y: np.ndarray, f: np.ndarray) -> float:
    den = np.abs(y) + np.abs(f)
    ratio = np.divide(2 * np.abs(y - f), den, out=np.zeros_like(den, dtype=np.float64), where=den > 0)
    return float(100 * np.mean(ratio))


def mase_scale(history: np.ndarray, season: int) -> float:
    """``mean_t |h_t - h_{t-m}|`` over the history (``m = 1`` when the history is shorter than two seasons)."""
    h = np.asarray(history, dtype=np.float64)
    m = season if len(h) > season else 1
    d = np.abs(h[m:] - h[:-m])
    return float(d.mean()) if len(d) else float("nan")


def coverage(y: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    return float(np.mean((y >= lower) & (y <= upper)))


def naive(history: np.ndarray, horizon: int) -> np.ndarray:
    """``ŷ_{T+h} = y_T``: the last value, ``(horizon,)``."""
    return np.repeat(np.asarray(history, dtype=np.float64)[-1], horizon)


def seasonal_naive(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """``ŷ_{T+h} = y_{T+h-m·ceil(h/m)}``: the last season repeated, ``(horizon,)``."""
    h = np.asarray(history, dtype=np.float64)
    if season <= 1 or len(h) < season:
        return naive(h, horizon)
    last = h[-season:]
    return np.array([last[i % season] for i in range(horizon)])


__all__ = ["mae", "rmse", "smape", "mase_scale", "coverage", "naive", "seasonal_naive"]

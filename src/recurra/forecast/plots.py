"""Forecast plots to PNG (matplotlib, no display needed): history, forecasts and their intervals."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

MAX_PANELS = 6


def plot_forecast(
    history: pd.DataFrame,
    forecasts: pd.DataFrame,
    path: str | os.PathLike,
    *,
    time_col: str,
    last: int | None = None,
    title: str = "forecast",
    ylabel: str = "value",
    level: float | None = None,
) -> Path:
    """Draw each series (and target) of ``history`` (its time column and ``actual``) and the rows of
    ``forecasts`` that belong to it (``forecast``, ``lower`` / ``upper`` shaded, one line per ``fold``
    when there is that column). Panels are told apart by the other columns the two tables share (a
    series column, ``target``). ``last``: show only that many history steps before the first forecast.
    ``ylabel``: what the values are (the target column's name, with its units when it has them);
    ``level``: the intervals' coverage, named in the legend. Writes ``path`` (PNG) and returns it.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    group_cols = [c for c in history.columns if c not in ("actual", time_col) and c in forecasts.columns]
    groups = list(history.groupby(group_cols, sort=False)) if group_cols else [((), history)]
    groups = groups[:MAX_PANELS]
    fig, axes = plt.subplots(len(groups), 1, figsize=(9, 3.2 * len(groups)), squeeze=False)
    for ax, (key, hist) in zip(axes[:, 0], groups):
        key = key if isinstance(key, tuple) else (key,)
        fc = forecasts
        for c, v in zip(group_cols, key):
            fc = fc[fc[c] == v]
        if len(fc) and last is not None:
            start = fc[time_col].min()
            before = hist[hist[time_col] < start]
            hist = pd.concat([before.tail(last), hist[hist[time_col] >= start]])
        ax.plot(hist[time_col], hist["actual"], color="black", lw=1.2, label="actual")
        folds = list(fc.groupby("fold")) if "fold" in fc.columns else [(None, fc)]
        for i, (fold, part) in enumerate(folds):
            colour = f"C{i % 10}"
            label = "forecast" if fold is None else f"fold {fold}"
            ax.plot(part[time_col], part["forecast"], color=colour, lw=1.5, label=label if i < 8 else None)
            if "lower" in part.columns and np.isfinite(part["lower"].to_numpy(dtype=float)).all():
                band = f"{level:.0%} interval" if level is not None else "interval"
                band = band if fold is None else f"{band}, fold {fold}"
                ax.fill_between(part[time_col], part["lower"], part["upper"], color=colour, alpha=0.2, lw=0,
                                label=band if i < 8 else None)  # fmt: skip
        name = ", ".join(str(v) for v in key)
        ax.set_title(f"{title}{': ' + name if name else ''}", fontsize=10)
        ax.set_xlabel(time_col)
        ax.set_ylabel(name if "target" in group_cols and name else ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


__all__ = ["plot_forecast"]
